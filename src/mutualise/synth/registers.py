"""Register files of the synthetic world, in the published formats of DOMAIN.md §5.

- Companies House "Free Company Data Product" CSV (55 columns, header as published with its
  leading spaces, every data field quoted, dates dd/mm/yyyy); live companies only.
- FCA Mutuals Public Register `SocietyList.csv` (with the `Full Registation Number` typo).
- Charity Commission `publicextract.charity.json` (one JSON array of charity objects).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import orjson

from mutualise.synth.catalogue import COUNTIES, SIC_GENERAL
from mutualise.synth.names import BUSINESS_TAILS, TRADE_WORDS, IdentifierPool, place_names
from mutualise.synth.orgs import Org, postcode
from mutualise.synth.programme import SNAPSHOT_DATE

CH_FILE = "BasicCompanyData-2026-11-01-part1_1.csv"
CH_COLUMN_NAMES = (
    "CompanyName",
    " CompanyNumber",
    "RegAddress.CareOf",
    "RegAddress.POBox",
    "RegAddress.AddressLine1",
    " RegAddress.AddressLine2",
    "RegAddress.PostTown",
    "RegAddress.County",
    "RegAddress.Country",
    "RegAddress.PostCode",
    "CompanyCategory",
    "CompanyStatus",
    "CountryOfOrigin",
    "DissolutionDate",
    "IncorporationDate",
    "Accounts.AccountRefDay",
    "Accounts.AccountRefMonth",
    "Accounts.NextDueDate",
    "Accounts.LastMadeUpDate",
    "Accounts.AccountCategory",
    "Returns.NextDueDate",
    "Returns.LastMadeUpDate",
    "Mortgages.NumMortCharges",
    "Mortgages.NumMortOutstanding",
    "Mortgages.NumMortPartSatisfied",
    "Mortgages.NumMortSatisfied",
    "SICCode.SicText_1",
    "SICCode.SicText_2",
    "SICCode.SicText_3",
    "SICCode.SicText_4",
    "LimitedPartnerships.NumGenPartners",
    "LimitedPartnerships.NumLimPartners",
    "URI",
    "PreviousName_1.CONDATE",
    " PreviousName_1.CompanyName",
    " PreviousName_2.CONDATE",
    " PreviousName_2.CompanyName",
    "PreviousName_3.CONDATE",
    " PreviousName_3.CompanyName",
    "PreviousName_4.CONDATE",
    " PreviousName_4.CompanyName",
    "PreviousName_5.CONDATE",
    " PreviousName_5.CompanyName",
    "PreviousName_6.CONDATE",
    " PreviousName_6.CompanyName",
    "PreviousName_7.CONDATE",
    " PreviousName_7.CompanyName",
    "PreviousName_8.CONDATE",
    " PreviousName_8.CompanyName",
    "PreviousName_9.CONDATE",
    " PreviousName_9.CompanyName",
    "PreviousName_10.CONDATE",
    " PreviousName_10.CompanyName",
    "ConfStmtNextDueDate",
    " ConfStmtLastMadeUpDate",
)
# The header line as published (not quoted; some names carry a leading space).
CH_HEADER = ",".join(CH_COLUMN_NAMES)
CH_COLUMNS = 55

FCA_FILE = "SocietyList.csv"
FCA_HEADER = (
    "Society Number,Society Suffix,Full Registation Number,Society Name,Registered As,"
    "Society Address,Registration Date,Deregistration Date,Registration Act,"
    "Standard Industrial Classification Code (SIC),Reporting Classification,Society Status"
)
CHARITY_FILE = "publicextract.charity.json"

CATEGORY = {
    "company_shares": "Private Limited Company",
    "plc": "Public Limited Company",
    "llp": "Limited Liability Partnership",
    "cic_guarantee": "Community Interest Company",
    "cic_shares": "Community Interest Company",
    "company_guarantee": "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)",
}
LBG_EXEMPT = (
    "PRI/LBG/NSC (Private, Limited by guarantee, no share capital, use of 'Limited' exemption)"
)
ACCOUNTS = {
    "micro": ("MICRO ENTITY", "MICRO ENTITY", "TOTAL EXEMPTION FULL", "DORMANT"),
    "small": ("SMALL", "TOTAL EXEMPTION FULL", "UNAUDITED ABRIDGED", "SMALL"),
    "medium": ("FULL", "MEDIUM", "AUDIT EXEMPTION SUBSIDIARY", "FULL"),
    "large": ("FULL", "GROUP", "GROUP", "FULL"),
}
FILLER_NUMBER_BASE = 95_000_000
FILLER_NUMBER_SPACE = 5_000_000
MAX_REGISTER_ROWS = FILLER_NUMBER_SPACE


@functools.lru_cache(maxsize=50_000)
def _ddmmyyyy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def ddmmyyyy(day: date | None) -> str:
    return _ddmmyyyy(day) if day else ""


def _pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return items[int(rng.random() * len(items))]


def _quoted(fields: Iterable[str]) -> str:
    """One CSV line with every field quoted (quotes inside fields doubled)."""
    joined = "\x00".join(fields)
    if '"' in joined:
        joined = joined.replace('"', '""')
    return '"' + joined.replace("\x00", '","') + '"\n'


def _company_fields(
    rng: random.Random,
    name: str,
    number: str,
    street: str,
    town: str,
    code: str,
    category: str,
    incorporated: date,
    size: str,
    sic: tuple[str, ...],
    previous: str = "",
) -> list[str]:
    ref_month = (3, 3, 3, 12, 6, 9)[int(rng.random() * 6)]
    last_made = date(
        SNAPSHOT_DATE.year - 1 if ref_month >= 6 else SNAPSHOT_DATE.year,
        ref_month,
        28 if ref_month == 2 else 30 if ref_month in (6, 9) else 31,
    )
    if last_made < incorporated:
        last_made_text, next_due = "", incorporated + timedelta(days=640)
    else:
        last_made_text, next_due = ddmmyyyy(last_made), last_made + timedelta(days=640)
    conf_last = SNAPSHOT_DATE - timedelta(days=10 + int(rng.random() * 350))
    sic_fields = [*list(sic)[:4], "", "", "", ""][:4]
    charges = (0, 0, 0, 1, 2)[int(rng.random() * 5)] if size in ("medium", "large") else 0
    fields = [
        name,
        number,
        "",
        "",
        street.upper(),
        "",
        town.upper(),
        _pick(rng, COUNTIES),
        _pick(rng, ("UNITED KINGDOM", "ENGLAND", "")),
        code,
        category,
        "Active" if rng.random() > 0.01 else "Active - Proposal to Strike off",
        "United Kingdom",
        "",
        ddmmyyyy(incorporated),
        "31" if ref_month in (3, 12) else "30",
        str(ref_month),
        ddmmyyyy(next_due),
        last_made_text,
        _pick(rng, ACCOUNTS.get(size, ACCOUNTS["small"])),
        "",
        "",
        str(charges),
        str(charges),
        "0",
        "0",
        *sic_fields,
        "0",
        "0",
        f"http://business.data.gov.uk/id/company/{number}",
    ]
    if previous:
        fields += [
            ddmmyyyy(incorporated + timedelta(days=200 + int(rng.random() * 1800))),
            previous,
        ]
        fields += [""] * 18
    else:
        fields += [""] * 20
    fields += [ddmmyyyy(conf_last + timedelta(days=365)), ddmmyyyy(conf_last)]
    return fields


def write_companies_house(
    path: Path, companies: list[Org], register_rows: int, rng: random.Random
) -> int:
    """World companies at random positions among filler rows; returns the rows written."""
    live = [c for c in companies if c.company_number and not c.dissolved]
    total = max(register_rows, len(live))
    if total - len(live) > MAX_REGISTER_ROWS:
        raise ValueError(f"register rows must be at most {MAX_REGISTER_ROWS:,}")
    slots = sorted(rng.sample(range(total), len(live)))
    places = [p.upper() for p in place_names()]
    trades = [t.upper() for t in TRADE_WORDS]
    tails = [t.upper() for t in BUSINESS_TAILS]
    n_places, n_trades = len(places), len(trades)
    name_space = n_places * n_trades * len(tails)
    number_step = 2_654_435_761  # coprime with both spaces, so rows never repeat
    number_offset = rng.randrange(FILLER_NUMBER_SPACE)
    name_offset = rng.randrange(name_space)
    filler_index = 0
    slot_index = 0
    buffer: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(CH_HEADER + "\n")
        for position in range(total):
            if slot_index < len(slots) and slots[slot_index] == position:
                org = live[slot_index]
                slot_index += 1
                category = CATEGORY.get(org.legal_form, "Private Limited Company")
                if org.legal_form == "company_guarantee" and not org.name.endswith("Limited"):
                    category = LBG_EXEMPT
                incorporated = org.incorporated or date(2015, 1, 1)
                buffer.append(
                    _quoted(
                        _company_fields(
                            rng,
                            org.name.upper(),
                            org.company_number,
                            org.street,
                            org.town,
                            org.postcode,
                            category,
                            incorporated,
                            org.size,
                            org.sic or (SIC_GENERAL[0],),
                        )
                    )
                )
            else:
                i = filler_index
                filler_index += 1
                serial = (i * number_step + number_offset) % FILLER_NUMBER_SPACE
                number = str(FILLER_NUMBER_BASE + serial)
                k = (i * number_step + name_offset) % name_space
                stem = (
                    f"{places[k % n_places]} {trades[(k // n_places) % n_trades]} "
                    f"{tails[k // (n_places * n_trades)]}"
                )
                roll = rng.random()
                if roll < 0.86:
                    name, category = (
                        f"{stem} {'LIMITED' if roll < 0.6 else 'LTD'}",
                        CATEGORY["company_shares"],
                    )
                elif roll < 0.92:
                    name, category = f"{stem} LIMITED", CATEGORY["company_guarantee"]
                elif roll < 0.96:
                    name, category = (
                        f"{stem} {'C.I.C.' if roll < 0.94 else 'CIC'}",
                        CATEGORY["cic_guarantee"],
                    )
                elif roll < 0.985:
                    name, category = f"{stem} LLP", CATEGORY["llp"]
                else:
                    name, category = f"{stem} PLC", CATEGORY["plc"]
                size = "micro" if roll < 0.5 else ("small" if roll < 0.9 else "medium")
                year = 1990 + (k % 36)
                incorporated = date(year, 1 + k % 12, 1 + k % 28)
                previous = f"{stem} HOLDINGS LIMITED" if k % 29 == 0 else ""
                buffer.append(
                    _quoted(
                        _company_fields(
                            rng,
                            name,
                            number,
                            f"{1 + k % 200} HIGH STREET",
                            places[(k // 7) % n_places],
                            postcode(rng, "london" if k % 9 == 0 else "south-east"),
                            category,
                            incorporated,
                            size,
                            (SIC_GENERAL[k % len(SIC_GENERAL)],),
                            previous,
                        )
                    )
                )
            if len(buffer) >= 20_000:
                handle.write("".join(buffer))
                buffer.clear()
        handle.write("".join(buffer))
    return total


def write_fca(
    path: Path, societies: list[Org], filler: int, rng: random.Random, pool: IdentifierPool
) -> int:
    rows = []
    for org in societies:
        rows.append(
            (
                org.society_number,
                org.name,
                org.legal_form,
                org.street,
                org.town,
                org.postcode,
                org.incorporated or date(2012, 4, 1),
                org.dissolved,
            )
        )
    places = place_names()
    for _ in range(filler):
        form = rng.choice(("community_benefit_society", "cooperative_society", "credit_union"))
        place = rng.choice(places)
        word = rng.choice(
            (
                "Community Energy",
                "Housing Co-operative",
                "Credit Union",
                "Community Shop",
                "Allotment Society",
                "Sports Club",
                "Pub",
            )
        )
        rows.append(
            (
                pool.society_number(),
                f"{place} {word} Limited",
                form,
                f"{rng.randint(1, 99)} High Street",
                place,
                postcode(rng, "north-west"),
                date(rng.randint(1950, 2024), rng.randint(1, 12), rng.randint(1, 28)),
                rng.random() < 0.2,
            )
        )
    rows.sort(key=lambda r: int(r[0][:-1]))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write(FCA_HEADER + "\r\n")
        for number, name, form, street, town, code, registered, gone in rows:
            classification = {
                "community_benefit_society": "Community Benefit Society",
                "cooperative_society": "Bona Fide Co-operative Society",
                "credit_union": "Credit Union",
            }[form]
            fields = [
                number[:-1],
                number[-1],
                number,
                name,
                "Credit Union" if form == "credit_union" else "Registered Society",
                f"{street}, {town}, {code}",
                ddmmyyyy(registered),
                ddmmyyyy(SNAPSHOT_DATE - timedelta(days=rng.randint(30, 3000))) if gone else "",
                "Co-operative and Community Benefit Societies Act 2014",
                rng.choice(("88990", "93110", "91011", "86900", "68100", "64999")),
                classification,
                "Deregistered" if gone else "Registered",
            ]
            handle.write(
                ",".join(f'"{f}"' if ("," in f or '"' in f) else f for f in fields) + "\r\n"
            )
    return len(rows)


def write_charities(
    path: Path, charities: list[Org], filler: int, rng: random.Random, pool: IdentifierPool
) -> int:
    places = place_names()
    items = []
    for org in charities:
        items.append(
            (
                org.charity_number,
                org.name,
                org.legal_form,
                org.company_number,
                org.postcode,
                org.street,
                org.town,
                org.incorporated,
                org.dissolved,
                org.size,
            )
        )
    for _ in range(filler):
        place = rng.choice(places)
        items.append(
            (
                pool.charity_number(),
                f"{place} {rng.choice(('Village Hall', 'Parochial Charity', 'Scout Group', 'Hospice Trust', 'Friends of the Library'))}",
                rng.choice(("charity", "cio")),
                "",
                postcode(rng, "east-midlands"),
                f"{rng.randint(1, 99)} Church Lane",
                place,
                date(rng.randint(1962, 2024), rng.randint(1, 12), rng.randint(1, 28)),
                rng.random() < 0.1,
                "micro",
            )
        )
    items.sort(key=lambda item: item[0])
    count = 0
    with path.open("wb") as handle:
        handle.write(b"[")
        for index, (
            number,
            name,
            form,
            company,
            code,
            street,
            town,
            registered,
            removed,
            size,
        ) in enumerate(items):
            registered = registered or date(2012, 4, 1)
            income = {
                "micro": 8_000,
                "small": 120_000,
                "medium": 2_000_000,
                "large": 25_000_000,
                "public": 0,
            }.get(size, 50_000)
            charity_type = "CIO" if form == "cio" else "Charitable company" if company else "Trust"
            record = {
                "date_of_extract": f"{SNAPSHOT_DATE.isoformat()}T00:00:00",
                "organisation_number": 5_900_000 + int(number) % 1_000_000,
                "registered_charity_number": int(number),
                "linked_charity_number": 0,
                "charity_name": name.upper() if rng.random() < 0.5 else name,
                "charity_type": charity_type,
                "charity_registration_status": "Removed" if removed else "Registered",
                "date_of_registration": f"{registered.isoformat()}T00:00:00",
                "date_of_removal": (f"{(SNAPSHOT_DATE - timedelta(days=400)).isoformat()}T00:00:00")
                if removed
                else None,
                "charity_reporting_status": "Submission Received",
                "latest_acc_fin_period_start_date": f"{SNAPSHOT_DATE.year - 1}-04-01T00:00:00",
                "latest_acc_fin_period_end_date": f"{SNAPSHOT_DATE.year}-03-31T00:00:00",
                "latest_income": float(income * rng.uniform(0.5, 1.5) // 1),
                "latest_expenditure": float(income * rng.uniform(0.5, 1.4) // 1),
                "charity_contact_address1": street,
                "charity_contact_address2": town,
                "charity_contact_address3": None,
                "charity_contact_address4": None,
                "charity_contact_address5": None,
                "charity_contact_postcode": code,
                "charity_contact_phone": None,
                "charity_contact_email": None,
                "charity_contact_web": None,
                "charity_company_registration_number": company or None,
                "charity_insolvent": False,
                "charity_in_administration": False,
                "charity_previously_excepted": None,
                "charity_is_cdf_or_cuf": None,
                "charity_is_cio": form == "cio",
                "cio_is_dissolved": None,
                "date_cio_dissolution_notice": None,
                "charity_activities": "Delivers services to the public.",
                "charity_gift_aid": True,
                "charity_has_land": False,
            }
            if index:
                handle.write(b",\n")
            handle.write(orjson.dumps(record))
            count += 1
        handle.write(b"]\n")
    return count
