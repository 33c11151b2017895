"""Procurement chains of the synthetic world, written as OCDS 1.1 releases with their truth.

A *chain group* is one buyer buying one service over time, in one or more lots. Each cycle of
a chain group is one contracting process (planning, tender, award, contract, amendments); at the
end of each contract a re-tender decision is drawn from `RetenderRates`. Chains are generated one
group at a time and written straight to the sinks, so memory stays flat in the release count.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from mutualise.synth.catalogue import OTHER_CPV, SECTOR_CPV, SERVICE_WORDS, is_reservable
from mutualise.synth.orgs import LARGE, OTHER_SE, PSM, PUBLIC_BODY, SME, Org, name_variant
from mutualise.synth.programme import SNAPSHOT_DATE

CF_PREFIX = "ocds-b5fd17-"
FTS_PREFIX = "ocds-h6vhtk-"
FIRST_YEAR = 2013
PA_2023_START = date(2025, 2, 24)
FTS_START = date(2021, 1, 1)  # Find a Tender replaced OJEU/TED notices for the UK
OUTCOME_CODES = (
    "RETAINED",
    "LOST_TO_LARGE_PRIVATE",
    "LOST_TO_SME_OR_VCSE",
    "LOST_TO_PUBLIC_BODY",
    "INSOURCED",
)


@dataclass(frozen=True)
class RetenderRates:
    """What happens when a contract ends. `extended` is drawn first (for the whole process);
    the other five split the rest and must sum to 1 with it."""

    retained: float = 0.55
    lost_to_large_private: float = 0.12
    lost_to_sme_or_vcse: float = 0.12
    lost_to_public_body: float = 0.05
    insourced: float = 0.06
    extended: float = 0.10

    def validate(self) -> None:
        values = (
            self.retained,
            self.lost_to_large_private,
            self.lost_to_sme_or_vcse,
            self.lost_to_public_body,
            self.insourced,
            self.extended,
        )
        if any(v < 0 for v in values):
            raise ValueError("re-tender rates must not be negative")
        if abs(sum(values) - 1.0) > 1e-6:
            raise ValueError(f"re-tender rates must sum to 1, not {sum(values):.4f}")
        if self.extended >= 1.0:
            raise ValueError("the extension rate must be below 1")

    def decision_weights(self) -> tuple[float, ...]:
        """Weights of OUTCOME_CODES once a process is not (or no longer) extended."""
        return (
            self.retained,
            self.lost_to_large_private,
            self.lost_to_sme_or_vcse,
            self.lost_to_public_body,
            self.insourced,
        )


@dataclass(frozen=True)
class NoiseRates:
    """How messy the published data is (DOMAIN.md §6 gives the real figures)."""

    coh_identifier: float = 0.30  # supplier parties carrying scheme GB-COH (when they have one)
    unpadded_number: float = 0.35  # GB-COH ids with a leading zero published without it
    name_variant: float = 0.30  # published name differs from the legal name
    postcode_in_street: float = 0.35  # postcode only inside address.streetAddress
    scale_wrong: float = 0.05
    scale_missing: float = 0.05
    psm_flag: float = 0.30  # mutual suppliers flagged publicServiceMissionOrganization
    new_portal_id: float = 0.06  # a mention gets a fresh portal id (same firm, new GB-CFS id)
    split_ocid: float = 0.03  # award published under a second ocid (Find a Tender style)
    missing_end_date: float = 0.03
    duplicate_party: float = 0.01
    converter_reservation_spelling: float = 0.2

    def validate(self) -> None:
        for name, value in self.__dict__.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"noise rate {name} must be between 0 and 1")


class WeightedPool:
    """Organisations of one class with a skewed (Zipf-like) chance of winning."""

    def __init__(self, orgs: list[Org], skew: float = 0.8) -> None:
        self.orgs = orgs
        running = 0.0
        self.cumulative: list[float] = []
        for rank in range(len(orgs)):
            running += 1.0 / (rank + 1) ** skew
            self.cumulative.append(running)

    def pick(self, rng: random.Random, avoid: Org | None = None) -> Org:
        for _ in range(8):
            x = rng.random() * self.cumulative[-1]
            org = self.orgs[bisect.bisect_right(self.cumulative, x)]
            if org is not avoid:
                return org
        return self.orgs[rng.randrange(len(self.orgs))]


class ReleaseSink:
    """Writes releases into gzipped JSON Lines files, one file per style and year.

    Contracts Finder style (`ocds-b5fd17-`): one release per line in
    `ocds/contracts-finder/releases-YYYY.jsonl.gz`. Find a Tender style (`ocds-h6vhtk-`): one
    release package per line (up to 100 releases each, like the API's pages) in
    `ocds/find-a-tender/packages-YYYY.jsonl.gz`.
    """

    def __init__(self, root: Path, compresslevel: int = 1) -> None:
        self.root = root
        self.compresslevel = compresslevel
        self.files: dict[tuple[str, int], tuple[BinaryIO, gzip.GzipFile]] = {}
        self.pending: dict[int, list[dict[str, Any]]] = {}
        self.count = 0
        self.by_tag: dict[str, int] = {}
        self.buffers: dict[tuple[str, int], list[bytes]] = {}
        self.buffered: dict[tuple[str, int], int] = {}

    def _file(self, style: str, year: int) -> gzip.GzipFile:
        key = (style, year)
        if key not in self.files:
            folder = self.root / ("contracts-finder" if style == "cf" else "find-a-tender")
            folder.mkdir(parents=True, exist_ok=True)
            name = f"releases-{year}.jsonl.gz" if style == "cf" else f"packages-{year}.jsonl.gz"
            raw = (folder / name).open("wb")
            # mtime=0 and no file name in the header keep the bytes identical between runs.
            gz = gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=self.compresslevel, mtime=0
            )
            self.files[key] = (raw, gz)
        return self.files[key][1]

    def _append(self, style: str, year: int, line: bytes) -> None:
        key = (style, year)
        chunks = self.buffers.setdefault(key, [])
        chunks.append(line)
        self.buffered[key] = self.buffered.get(key, 0) + len(line)
        if self.buffered[key] >= 1 << 20:
            self._file(style, year).write(b"".join(chunks))
            chunks.clear()
            self.buffered[key] = 0

    def write(self, release: dict[str, Any]) -> None:
        self.count += 1
        for tag in release["tag"]:
            self.by_tag[tag] = self.by_tag.get(tag, 0) + 1
        year = int(release["date"][:4])
        if release["ocid"].startswith(CF_PREFIX):
            self._append("cf", year, orjson.dumps(release) + b"\n")
            return
        batch = self.pending.setdefault(year, [])
        batch.append(release)
        if len(batch) >= 100:
            self._flush_package(year)

    def _flush_package(self, year: int) -> None:
        batch = self.pending.pop(year, [])
        if not batch:
            return
        published = max(r["date"] for r in batch)
        package = {
            "uri": f"https://www.find-tender.service.gov.uk/api/1.0/ocdsReleasePackages?year={year}",
            "version": "1.1",
            "publishedDate": published,
            "publisher": {"name": "Find a Tender (synthetic)"},
            "license": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            "publicationPolicy": "https://www.find-tender.service.gov.uk/Home/PublicationPolicy",
            "releases": batch,
        }
        self._append("fts", year, orjson.dumps(package) + b"\n")

    def close(self) -> list[Path]:
        for year in sorted(self.pending):
            self._flush_package(year)
        for (style, year), chunks in sorted(self.buffers.items()):
            if chunks:
                self._file(style, year).write(b"".join(chunks))
        paths = []
        for (style, year), (raw, gz) in sorted(self.files.items()):
            gz.close()
            raw.close()
            folder = "contracts-finder" if style == "cf" else "find-a-tender"
            name = f"releases-{year}.jsonl.gz" if style == "cf" else f"packages-{year}.jsonl.gz"
            paths.append(self.root / folder / name)
        return paths


@dataclass
class Lot:
    number: int
    title: str
    incumbent: Org | None
    previous: tuple[str, str] | None = None  # (ocid, award id) of this lot's last award
    previous_process: str = ""
    active: bool = True
    last_outcome: str = ""


@dataclass
class ChainGroup:
    chain_id: str
    buyer: Org
    cpv: str
    cpv_description: str
    category: str
    start: date
    term_years: int
    annual_value: int
    lots: list[Lot]
    style: str  # cf | fts
    route: str  # competition | direct_award | reservation
    forced_first: str = ""  # programme outcome for the first re-tender (or PENDING)
    programme_key: str = ""
    contract_reference: str = ""
    reserved_history: list[date] = field(default_factory=list)


TruthRow = dict[str, Any]


class Truth:
    """Collects truth rows and hands them to a writer in batches."""

    def __init__(self, flush: Callable[[str, list[TruthRow]], None], batch: int = 50_000) -> None:
        self.flush_fn = flush
        self.batch = batch
        self.rows: dict[str, list[TruthRow]] = {}

    def add(self, table: str, row: TruthRow) -> None:
        rows = self.rows.setdefault(table, [])
        rows.append(row)
        if len(rows) >= self.batch:
            self.flush_fn(table, rows)
            self.rows[table] = []

    def close(self) -> None:
        for table, rows in self.rows.items():
            if rows:
                self.flush_fn(table, rows)
        self.rows = {}


def _ri(rng: random.Random, low: int, high: int) -> int:
    """A fast randint (random.randint is slow in a hot loop)."""
    return low + int(rng.random() * (high - low + 1))


@functools.lru_cache(maxsize=20_000)
def _iso(day: date) -> str:
    return day.isoformat()


def _stamp(day: date, rng: random.Random) -> str:
    minute = 420 + int(rng.random() * 840)
    return f"{_iso(day)}T{minute // 60:02d}:{minute % 60:02d}:00Z"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


class Simulator:
    def __init__(
        self,
        rng: random.Random,
        sink: ReleaseSink,
        truth: Truth,
        rates: RetenderRates,
        noise: NoiseRates,
        pools: dict[str, WeightedPool],
        buyers: list[Org],
    ) -> None:
        self.rng = rng
        self.sink = sink
        self.truth = truth
        self.rates = rates
        self.noise = noise
        self.pools = pools
        self.buyers = buyers
        self.release_counter = itertools.count(800_000)
        self.fts_counter = itertools.count(0x100000)
        self.portal_counter = itertools.count(100_000)
        self.chain_counter = itertools.count(1)
        self.buyer_portal: dict[str, int] = {}
        self.ppon: dict[str, str] = {}
        self.awards = 0
        self.mentions = 0

    # ---- identities -------------------------------------------------------------------
    def new_ocid(self, style: str) -> str:
        if style == "cf":
            return CF_PREFIX + _uuid(self.rng)
        return f"{FTS_PREFIX}{next(self.fts_counter):06x}"

    def release_id(self, ocid: str, style: str) -> str:
        n = next(self.release_counter)
        if style == "cf":
            return f"{_uuid(self.rng)}-{n}"
        return f"{ocid}-{n}"

    def buyer_party(self, buyer: Org, style: str) -> dict[str, Any]:
        if buyer.key not in self.buyer_portal:
            self.buyer_portal[buyer.key] = next(self.portal_counter)
        portal = self.buyer_portal[buyer.key]
        party: dict[str, Any] = {
            "id": f"GB-CFS-{portal}" if style == "cf" else f"GB-FTS-{portal}",
            "name": buyer.name,
            "identifier": {"legalName": buyer.name},
            "address": {
                "streetAddress": buyer.street,
                "locality": buyer.town,
                "postalCode": buyer.postcode,
                "countryName": "England",
            },
            "roles": ["buyer"],
        }
        if style == "fts" and buyer.public_code:
            party["identifier"] = {
                "scheme": buyer.public_scheme,
                "id": buyer.public_code,
                "legalName": buyer.name,
            }
        return party

    def supplier_party(self, org: Org, style: str, when: date) -> tuple[dict[str, Any], TruthRow]:
        rng = self.rng
        noise = self.noise
        if org.cls == PUBLIC_BODY:
            name, name_noise = org.name, ""
        elif rng.random() < noise.name_variant:
            name, name_noise = name_variant(rng, org)
        else:
            name, name_noise = org.name, ""
        identifier: dict[str, Any] = {"legalName": name}
        scheme = ""
        published_id = ""
        if org.company_number and rng.random() < noise.coh_identifier:
            number = org.company_number
            if number.startswith("0") and rng.random() < noise.unpadded_number:
                number = number.lstrip("0")
            scheme, published_id = "GB-COH", number
            party_id = f"GB-COH-{number}"
            identifier = {"legalName": name, "scheme": "GB-COH", "id": number}
        else:
            if not org.portal_ids or rng.random() < noise.new_portal_id:
                org.portal_ids.append(next(self.portal_counter))
            portal = rng.choice(org.portal_ids)
            party_id = f"GB-CFS-{portal}" if style == "cf" else f"GB-FTS-{portal}"
        street_noise = rng.random() < noise.postcode_in_street
        if street_noise:
            address = {"streetAddress": f"{org.street}, {org.town} {org.postcode}"}
        else:
            address = {
                "streetAddress": org.street,
                "locality": org.town,
                "postalCode": org.postcode,
                "countryName": "England",
            }
        details: dict[str, Any] = {}
        true_scale = org.true_scale
        roll = rng.random()
        scale = true_scale
        if org.cls == PUBLIC_BODY or roll < noise.scale_missing:
            scale = ""
        elif roll < noise.scale_missing + noise.scale_wrong:
            scale = "large" if true_scale == "sme" else "sme"
        if scale:
            details["scale"] = scale
        vcse = org.is_vcse if rng.random() > 0.05 else not org.is_vcse
        if org.cls != PUBLIC_BODY:
            details["vcse"] = vcse
        psm_flag = org.cls == PSM and rng.random() < noise.psm_flag
        if psm_flag:
            details["publicServiceMissionOrganization"] = True
        party: dict[str, Any] = {
            "id": party_id,
            "name": name,
            "identifier": identifier,
            "address": address,
            "roles": ["supplier"],
        }
        if details:
            party["details"] = details
        if style == "fts" and when >= PA_2023_START and org.cls != PUBLIC_BODY:
            if org.key not in self.ppon:
                self.ppon[org.key] = f"PZZZ-{rng.randrange(1000, 9999)}-{rng.randrange(100, 999)}"
            party["additionalIdentifiers"] = [{"scheme": "GB-PPON", "id": self.ppon[org.key]}]
        truth = {
            "supplier_party_id": party_id,
            "supplier_name": name,
            "organisation_key": org.key,
            "register_identifier": org.register_identifier,
            "true_class": org.cls,
            "published_scheme": scheme,
            "published_identifier": published_id,
            "name_noise": name_noise,
            "published_scale": scale,
            "true_scale": "" if org.cls == PUBLIC_BODY else true_scale,
            "published_vcse": vcse if org.cls != PUBLIC_BODY else None,
            "psm_flag": psm_flag,
            "postcode_in_street": street_noise,
        }
        return party, truth

    # ---- chain groups -----------------------------------------------------------------
    def winner_for(self, outcome: str, incumbent: Org | None, buyer: Org) -> Org | None:
        rng = self.rng
        if outcome == "RETAINED":
            return incumbent
        if outcome == "LOST_TO_LARGE_PRIVATE":
            return self.pools[LARGE].pick(rng, incumbent)
        if outcome == "LOST_TO_SME_OR_VCSE":
            cls = rng.choices((SME, OTHER_SE, PSM), (60, 30, 10))[0]
            return self.pools[cls].pick(rng, incumbent)
        if outcome == "LOST_TO_PUBLIC_BODY":
            return self.pools[PUBLIC_BODY].pick(rng, buyer)
        return None

    def initial_supplier(self, cpv: str, buyer: Org) -> Org:
        rng = self.rng
        if is_reservable(cpv):
            cls = rng.choices((PSM, OTHER_SE, SME, LARGE, PUBLIC_BODY), (8, 25, 37, 22, 8))[0]
        else:
            cls = rng.choices((PSM, OTHER_SE, SME, LARGE, PUBLIC_BODY), (1, 5, 60, 32, 2))[0]
        if cls == PUBLIC_BODY:
            return self.pools[PUBLIC_BODY].pick(rng, buyer)
        return self.pools[cls].pick(rng)

    def random_group(self) -> ChainGroup:
        rng = self.rng
        buyer = rng.choice(self.buyers)
        if rng.random() < 0.6:
            sector = rng.choice(list(SECTOR_CPV))
            cpv, description = rng.choice(SECTOR_CPV[sector])
            category = "services"
        else:
            cpv, description, category = rng.choice(OTHER_CPV)
        n_lots = 1 if rng.random() < 0.85 else _ri(rng, 2, 4)
        start = date(FIRST_YEAR, 6, 1) + timedelta(days=_ri(rng, 0, 365 * 8))
        route = "competition"
        if is_reservable(cpv) and rng.random() < 0.08:
            route = "reservation"
        elif rng.random() < 0.15:
            route = "direct_award"
        term = _ri(rng, 2, 7)
        group = ChainGroup(
            chain_id=f"chain-{next(self.chain_counter):07d}",
            buyer=buyer,
            cpv=cpv,
            cpv_description=description,
            category=category,
            start=start,
            term_years=term,
            annual_value=int(rng.lognormvariate(12.3, 1.1)) // 100 * 100 + 5_000,
            lots=[],
            style="fts" if rng.random() < 0.25 else "cf",
            route=route,
        )
        areas = ("North", "South", "East", "West", "Central")
        for i in range(n_lots):
            title = f"Lot {i + 1}: {areas[i]}" if n_lots > 1 else ""
            supplier = (
                self.pools[PSM].pick(rng)
                if route == "reservation"
                else self.initial_supplier(cpv, buyer)
            )
            group.lots.append(Lot(i + 1, title, supplier))
        return group

    def programme_group(self, organisation: dict[str, Any], mutual: Org, buyer: Org) -> ChainGroup:
        rng = self.rng
        journey = organisation["journey"]
        go_live = date.fromisoformat(journey["go_live_date"])
        if journey["contract_end_date"]:
            end = date.fromisoformat(journey["contract_end_date"])
            term = max(1, round((end - go_live).days / 365))
        else:
            term = 3
            while go_live + timedelta(days=365 * term) < SNAPSHOT_DATE - timedelta(days=60):
                term += 1
        sector = organisation["sector"]
        cpv, description = SECTOR_CPV[sector][0]
        route = journey["procurement_route"] or "direct_award"
        if route == "reservation" and not is_reservable(cpv):
            route = "competition"
        stage = organisation["stage"]
        forced = "PENDING"
        if stage == "OUTCOME":
            forced = journey["retender_outcome"]
        staff = organisation["staff_count"] or 100
        return ChainGroup(
            chain_id=f"chain-{next(self.chain_counter):07d}",
            buyer=buyer,
            cpv=cpv,
            cpv_description=description,
            category="services",
            start=go_live,
            term_years=term,
            annual_value=staff * _ri(rng, 30_000, 45_000),
            lots=[Lot(1, "", mutual)],
            style="cf" if go_live < PA_2023_START else "fts",
            route=route,
            forced_first=forced,
            programme_key=organisation["key"],
            contract_reference=journey["service_contract_reference"],
        )

    def run_group(self, group: ChainGroup) -> None:
        rng = self.rng
        start = group.start
        cycle = 0
        while True:
            lots = [lot for lot in group.lots if lot.active]
            if not lots:
                return
            term_years = group.term_years if cycle == 0 else _ri(rng, 2, 7)
            reserved = (
                group.route == "reservation"
                if cycle == 0
                else (
                    is_reservable(group.cpv) and group.route == "reservation" and rng.random() < 0.5
                )
            )
            if reserved:
                term_years = min(term_years, 3 if start < PA_2023_START else 5)
            direct = group.route == "direct_award" and cycle == 0
            end = start + timedelta(days=365 * term_years) - timedelta(days=1)
            award_day = start - timedelta(days=_ri(rng, 14, 60))
            tender_day = award_day - timedelta(days=_ri(rng, 60, 200))
            if tender_day > SNAPSHOT_DATE:
                return
            process = self.emit_process(
                group, lots, cycle, start, end, tender_day, award_day, reserved, direct
            )
            if process is None:  # tender published, award not yet made
                return
            ocid, award_ocid, awards, contract_released = process
            # The re-tender decision at the end of this contract.
            forced = group.forced_first if cycle == 0 else ""
            extended = False
            decision_day = end
            if forced == "EXTENDED" or (
                not forced and end <= SNAPSHOT_DATE and rng.random() < self.rates.extended
            ):
                extended = True
                new_end = end + timedelta(days=_ri(rng, 365, 730))
                if forced == "EXTENDED" and new_end <= SNAPSHOT_DATE:
                    new_end = SNAPSHOT_DATE + timedelta(days=_ri(rng, 30, 400))
                amend_day = end - timedelta(days=_ri(rng, 10, 60))
                if amend_day <= SNAPSHOT_DATE:
                    self.emit_extension(
                        group, award_ocid, awards, contract_released, amend_day, new_end
                    )
                    decision_day = new_end
                else:
                    extended = False
            next_start = decision_day + timedelta(days=1)
            outcomes: dict[int, str] = {}
            for lot in lots:
                if decision_day > SNAPSHOT_DATE or forced == "PENDING":
                    outcomes[lot.number] = "EXTENDED" if extended else "PENDING"
                elif forced and forced != "EXTENDED":
                    outcomes[lot.number] = {
                        "ACQUIRED": "LOST_TO_LARGE_PRIVATE",
                        "WOUND_UP": "INSOURCED",
                    }.get(forced, forced)
                else:
                    outcomes[lot.number] = rng.choices(
                        OUTCOME_CODES, self.rates.decision_weights()
                    )[0]
            # A decided re-tender whose award would fall after the snapshot is still pending.
            next_award_day = next_start - timedelta(days=30)
            for lot in lots:
                outcome = outcomes[lot.number]
                award_id = awards[lot.number][1]
                successor = None
                if outcome in OUTCOME_CODES and outcome != "INSOURCED":
                    if next_award_day > SNAPSHOT_DATE:
                        outcome = "PENDING"
                    else:
                        successor = self.winner_for(outcome, lot.incumbent, group.buyer)
                row = {
                    "ocid": award_ocid,
                    "award_id": award_id,
                    "chain_id": group.chain_id,
                    "lot": lot.number,
                    "supplier_key": lot.incumbent.key if lot.incumbent else "",
                    "supplier_class": lot.incumbent.cls if lot.incumbent else "",
                    "contract_end": end.isoformat(),
                    "final_end": decision_day.isoformat(),
                    "was_extended": extended,
                    "outcome": outcome,
                    "successor_key": successor.key if successor else "",
                    "programme_key": group.programme_key,
                }
                self.truth.add("outcomes", row)
                lot.previous = (award_ocid, award_id)
                lot.previous_process = ocid
                if outcome in ("PENDING", "EXTENDED", "INSOURCED"):
                    lot.active = False
                else:
                    lot.incumbent = successor
                lot.last_outcome = outcome
            if not any(lot.active for lot in group.lots):
                # Pending lots whose re-tender is already out get a tender notice.
                pending = [
                    lot
                    for lot in lots
                    if lot.last_outcome == "PENDING"
                    and decision_day <= SNAPSHOT_DATE + timedelta(days=240)
                ]
                if pending:
                    self.emit_open_retender(group, pending, next_start)
                return
            start = next_start
            cycle += 1

    # ---- releases ---------------------------------------------------------------------
    def _tender(
        self,
        group: ChainGroup,
        lots: list[Lot],
        tender_day: date,
        start: date,
        end: date,
        reserved: bool,
        direct: bool,
        status: str,
        reference: str,
        full: bool,
    ) -> dict[str, Any]:
        rng = self.rng
        service = SERVICE_WORDS.get(group.cpv, group.cpv_description.lower())
        title = f"Provision of {service} for {group.buyer.name}"
        value = group.annual_value * len(lots) * max(1, (end - start).days // 365)
        tender: dict[str, Any] = {
            "id": reference,
            "title": title,
            "status": status,
            "classification": {
                "scheme": "CPV",
                "id": group.cpv,
                "description": group.cpv_description,
            },
        }
        if not full:
            return tender
        tender.update(
            {
                "description": f"{title}. The contract runs for {(end - start).days // 365} years"
                f" with the option to extend.",
                "datePublished": _stamp(tender_day, rng),
                "items": [
                    {
                        "id": "1",
                        "deliveryAddresses": [
                            {"region": "England", "countryName": "United Kingdom"}
                        ],
                    }
                ],
                "value": {"amount": value, "currency": "GBP"},
                "procurementMethod": "direct"
                if direct
                else rng.choice(("open", "open", "selective")),
                "procurementMethodDetails": "Direct award" if direct else "Open procedure",
                "tenderPeriod": {
                    "endDate": _stamp(tender_day + timedelta(days=_ri(rng, 30, 60)), rng)
                },
                "contractPeriod": {
                    "startDate": f"{_iso(start)}T00:00:00Z",
                    "endDate": f"{_iso(end)}T23:59:59Z",
                },
                "suitability": {"sme": rng.random() < 0.7, "vcse": rng.random() < 0.5},
                "mainProcurementCategory": group.category,
            }
        )
        if reserved:
            code = (
                "publicServiceMissionOrganization"
                if rng.random() < self.noise.converter_reservation_spelling
                else "publicService"
            )
            tender["otherRequirements"] = {"reservedParticipation": [code]}
        if len(group.lots) > 1:
            tender["lots"] = [
                {
                    "id": str(lot.number),
                    "title": lot.title,
                    "status": status,
                    "value": {"amount": value // len(lots), "currency": "GBP"},
                    "contractPeriod": {
                        "startDate": f"{_iso(start)}T00:00:00Z",
                        "endDate": f"{_iso(end)}T23:59:59Z",
                    },
                    "hasRenewal": rng.random() < 0.5,
                }
                for lot in lots
            ]
        return tender

    def _release(
        self, ocid: str, style: str, day: date, tags: list[str], **parts: Any
    ) -> dict[str, Any]:
        release = {
            "ocid": ocid,
            "id": self.release_id(ocid, style),
            "date": _stamp(day, self.rng),
            "language": "en",
            "tag": tags,
            "initiationType": "tender",
        }
        release.update(parts)
        return release

    def emit_process(
        self,
        group: ChainGroup,
        lots: list[Lot],
        cycle: int,
        start: date,
        end: date,
        tender_day: date,
        award_day: date,
        reserved: bool,
        direct: bool,
    ) -> tuple[str, str, dict[int, tuple[str, str]], bool] | None:
        rng = self.rng
        style = group.style if tender_day >= FTS_START else "cf"
        if style == "cf" and start >= PA_2023_START and rng.random() < 0.7:
            style = "fts"
        ocid = self.new_ocid(style)
        reference = (
            group.contract_reference
            if cycle == 0 and group.contract_reference
            else f"{group.buyer.public_code or 'REF'}/{tender_day.year}/{_ri(rng, 1, 99999):05d}"
        )
        buyer_party = self.buyer_party(group.buyer, style)
        buyer_ref = {"id": buyer_party["id"], "name": buyer_party["name"]}
        if not direct:
            if rng.random() < 0.2:
                plan_day = tender_day - timedelta(days=_ri(rng, 30, 120))
                self.sink.write(
                    self._release(
                        ocid,
                        style,
                        plan_day,
                        ["planning"],
                        planning={"rationale": "Early market engagement before re-procurement."},
                        tender=self._tender(
                            group,
                            lots,
                            plan_day,
                            start,
                            end,
                            False,
                            False,
                            "planned",
                            reference,
                            False,
                        ),
                        parties=[buyer_party],
                        buyer=buyer_ref,
                    )
                )
            self.sink.write(
                self._release(
                    ocid,
                    style,
                    tender_day,
                    ["tender"],
                    tender=self._tender(
                        group,
                        lots,
                        tender_day,
                        start,
                        end,
                        reserved,
                        direct,
                        "active",
                        reference,
                        True,
                    ),
                    parties=[buyer_party],
                    buyer=buyer_ref,
                )
            )
            if rng.random() < 0.05:
                amend_day = tender_day + timedelta(days=_ri(rng, 5, 20))
                tender = self._tender(
                    group, lots, tender_day, start, end, reserved, direct, "active", reference, True
                )
                tender["tenderPeriod"] = {"endDate": _stamp(amend_day + timedelta(days=30), rng)}
                self.sink.write(
                    self._release(
                        ocid,
                        style,
                        amend_day,
                        ["tenderAmendment"],
                        tender=tender,
                        parties=[buyer_party],
                        buyer=buyer_ref,
                    )
                )
        if award_day > SNAPSHOT_DATE:
            return None
        award_ocid = ocid
        if style == "fts" and rng.random() < self.noise.split_ocid:
            award_ocid = self.new_ocid("fts")
        parties = [buyer_party]
        awards = []
        award_ids: dict[int, tuple[str, str]] = {}
        missing_end = rng.random() < self.noise.missing_end_date
        seen: set[str] = set()
        release_id = self.release_id(award_ocid, style)
        for lot in lots:
            supplier = lot.incumbent
            assert supplier is not None
            party, truth = self.supplier_party(supplier, style, award_day)
            if party["id"] not in seen:
                parties.append(party)
                seen.add(party["id"])
            if rng.random() < self.noise.duplicate_party:
                duplicate = dict(party)
                duplicate["name"] = party["name"].upper() + " "
                parties.append(duplicate)
            award_id = f"{award_ocid}-{lot.number}" if style == "cf" else str(lot.number)
            period: dict[str, Any] = {"startDate": f"{_iso(start)}T00:00:00Z"}
            if not missing_end:
                period["endDate"] = f"{_iso(end)}T23:59:59Z"
            else:
                period["durationInMonths"] = 12 * max(1, (end - start).days // 365)
            award: dict[str, Any] = {
                "id": award_id,
                "status": "active",
                "date": f"{_iso(award_day)}T00:00:00Z",
                "datePublished": _stamp(award_day + timedelta(days=_ri(rng, 0, 20)), rng),
                "value": {
                    "amount": group.annual_value * max(1, (end - start).days // 365),
                    "currency": "GBP",
                },
                "suppliers": [{"id": party["id"], "name": party["name"]}],
                "contractPeriod": period,
            }
            if len(group.lots) > 1:
                award["relatedLots"] = [str(lot.number)]
            awards.append(award)
            award_ids[lot.number] = (award_ocid, award_id)
            self.awards += 1
            self.mentions += 1
            truth.update(
                {
                    "ocid": award_ocid,
                    "release_id": release_id,
                    "award_id": award_id,
                    "chain_id": group.chain_id,
                    "kind": "contract",
                }
            )
            self.truth.add("supplier_mentions", truth)
            self.truth.add(
                "predecessors",
                {
                    "ocid": award_ocid,
                    "award_id": award_id,
                    "process_ocid": ocid,
                    "chain_id": group.chain_id,
                    "lot": lot.number,
                    "predecessor_ocid": lot.previous[0] if lot.previous else None,
                    "predecessor_award_id": lot.previous[1] if lot.previous else None,
                    "predecessor_process_ocid": lot.previous_process or None,
                    "award_date": award_day.isoformat(),
                },
            )
            if reserved:
                self.truth.add(
                    "reservations",
                    {
                        "ocid": award_ocid,
                        "award_id": award_id,
                        "process_ocid": ocid,
                        "buyer_key": group.buyer.key,
                        "cpv": group.cpv,
                        "regime": "PCR2015_REG77" if tender_day < PA_2023_START else "PA2023_S33",
                        "term_years": (end - start).days // 365
                        + (1 if (end - start).days % 365 else 0),
                        "supplier_key": supplier.key,
                        "supplier_class": supplier.cls,
                        "repeat_within_3_years": any(
                            (award_day - earlier).days < 3 * 365
                            for earlier in group.reserved_history
                        ),
                    },
                )
        tender_part = self._tender(
            group, lots, tender_day, start, end, reserved, direct, "complete", reference, direct
        )
        release = {
            "ocid": award_ocid,
            "id": release_id,
            "date": _stamp(award_day, rng),
            "language": "en",
            "tag": ["award"],
            "initiationType": "tender",
            "tender": tender_part,
            "parties": parties,
            "buyer": buyer_ref,
            "awards": awards,
        }
        if award_ocid != ocid:
            release["relatedProcesses"] = [
                {"id": "1", "relationship": ["planning"], "scheme": "ocid", "identifier": ocid}
            ]
        self.sink.write(release)
        contract_released = rng.random() < 0.4
        if contract_released:
            contracts = [
                {
                    "id": f"{award_id}-c",
                    "awardID": award_id,
                    "status": "active",
                    "period": {
                        "startDate": f"{_iso(start)}T00:00:00Z",
                        "endDate": f"{_iso(end)}T23:59:59Z",
                    },
                    "value": award["value"],
                    "dateSigned": f"{_iso(start - timedelta(days=7))}T00:00:00Z",
                }
                for award_id, award in zip([a["id"] for a in awards], awards, strict=True)
            ]
            sign_day = min(start, SNAPSHOT_DATE)
            self.sink.write(
                self._release(
                    award_ocid,
                    style,
                    sign_day,
                    ["contract"],
                    contracts=contracts,
                    buyer=buyer_ref,
                    parties=[buyer_party],
                )
            )
        if reserved:
            group.reserved_history.append(award_day)
        return ocid, award_ocid, award_ids, contract_released

    def emit_extension(
        self,
        group: ChainGroup,
        ocid: str,
        awards: dict[int, tuple[str, str]],
        contract_released: bool,
        day: date,
        new_end: date,
    ) -> None:
        style = "cf" if ocid.startswith(CF_PREFIX) else "fts"
        amendment = {
            "id": "1",
            "date": f"{_iso(day)}T00:00:00Z",
            "rationale": "Contract extended under the option to extend.",
            "description": f"End date extended to {new_end.isoformat()}.",
        }
        end = f"{_iso(new_end)}T23:59:59Z"
        release_awards = [
            {"id": award_id, "contractPeriod": {"endDate": end}, "amendments": [amendment]}
            for _, award_id in awards.values()
        ]
        parts: dict[str, Any] = {"awards": release_awards}
        tags = ["awardUpdate"]
        if contract_released:
            tags.append("contractAmendment")
            parts["contracts"] = [
                {
                    "id": f"{award_id}-c",
                    "awardID": award_id,
                    "period": {"endDate": end},
                    "amendments": [amendment],
                }
                for _, award_id in awards.values()
            ]
        self.sink.write(self._release(ocid, style, day, tags, **parts))

    def emit_open_retender(self, group: ChainGroup, lots: list[Lot], start: date) -> None:
        """The next tender is out but not yet awarded (PENDING in the truth)."""
        rng = self.rng
        tender_day = start - timedelta(days=_ri(rng, 120, 240))
        if tender_day > SNAPSHOT_DATE:
            return
        style = (
            "fts" if start >= PA_2023_START else (group.style if tender_day >= FTS_START else "cf")
        )
        ocid = self.new_ocid(style)
        end = start + timedelta(days=365 * 3)
        buyer_party = self.buyer_party(group.buyer, style)
        reference = f"{group.buyer.public_code or 'REF'}/{tender_day.year}/{_ri(rng, 1, 99999):05d}"
        self.sink.write(
            self._release(
                ocid,
                style,
                tender_day,
                ["tender"],
                tender=self._tender(
                    group, lots, tender_day, start, end, False, False, "active", reference, True
                ),
                parties=[buyer_party],
                buyer={"id": buyer_party["id"], "name": buyer_party["name"]},
            )
        )

    def run_framework(self) -> None:
        """A framework agreement with several suppliers and call-offs by other buyers."""
        rng = self.rng
        buyer = rng.choice(self.buyers)
        cpv, description, category = rng.choice(OTHER_CPV)
        start = date(FIRST_YEAR, 6, 1) + timedelta(days=_ri(rng, 0, 365 * 12))
        style = "fts" if start >= FTS_START and rng.random() < 0.5 else "cf"
        award_day = start - timedelta(days=_ri(rng, 14, 60))
        if award_day > SNAPSHOT_DATE:
            return
        end = start + timedelta(days=365 * 4) - timedelta(days=1)
        ocid = self.new_ocid(style)
        buyer_party = self.buyer_party(buyer, style)
        buyer_ref = {"id": buyer_party["id"], "name": buyer_party["name"]}
        members = []
        for _ in range(_ri(rng, 3, 6)):
            cls = rng.choices((SME, LARGE, OTHER_SE), (55, 40, 5))[0]
            members.append(self.pools[cls].pick(rng))
        members = list({m.key: m for m in members}.values())
        parties = [buyer_party]
        refs = []
        release_id = self.release_id(ocid, style)
        award_id = f"{ocid}-1" if style == "cf" else "1"
        truths = []
        for member in members:
            party, truth = self.supplier_party(member, style, award_day)
            if party["id"] in {p["id"] for p in parties}:
                continue
            parties.append(party)
            refs.append({"id": party["id"], "name": party["name"]})
            truths.append(truth)
        tender = {
            "id": f"FW/{award_day.year}/{_ri(rng, 1, 9999):04d}",
            "title": f"Framework agreement for {description.lower()}",
            "status": "complete",
            "classification": {"scheme": "CPV", "id": cpv, "description": description},
            "procurementMethod": "open",
            "procurementMethodDetails": "Framework agreement",
            "mainProcurementCategory": category,
            "techniques": {"hasFramework": True},
        }
        self.sink.write(
            {
                "ocid": ocid,
                "id": release_id,
                "date": _stamp(award_day, rng),
                "language": "en",
                "tag": ["award"],
                "initiationType": "tender",
                "tender": tender,
                "parties": parties,
                "buyer": buyer_ref,
                "awards": [
                    {
                        "id": award_id,
                        "status": "active",
                        "date": f"{_iso(award_day)}T00:00:00Z",
                        "value": {"amount": int(rng.lognormvariate(14, 1)), "currency": "GBP"},
                        "suppliers": refs,
                        "contractPeriod": {
                            "startDate": f"{_iso(start)}T00:00:00Z",
                            "endDate": f"{_iso(end)}T23:59:59Z",
                        },
                    }
                ],
            }
        )
        for truth in truths:
            truth.update(
                {
                    "ocid": ocid,
                    "release_id": release_id,
                    "award_id": award_id,
                    "chain_id": "",
                    "kind": "framework",
                }
            )
            self.truth.add("supplier_mentions", truth)
            self.mentions += 1
        self.awards += 1
        for _ in range(_ri(rng, 2, 5)):
            call_day = start + timedelta(days=_ri(rng, 30, 365 * 3))
            if call_day > SNAPSHOT_DATE:
                continue
            call_buyer = rng.choice(self.buyers)
            call_style = style
            call_ocid = self.new_ocid(call_style)
            member = rng.choice(members)
            call_party = self.buyer_party(call_buyer, call_style)
            party, truth = self.supplier_party(member, call_style, call_day)
            call_release_id = self.release_id(call_ocid, call_style)
            call_award_id = f"{call_ocid}-1" if call_style == "cf" else "1"
            call_end = call_day + timedelta(days=365 * _ri(rng, 1, 3))
            self.sink.write(
                {
                    "ocid": call_ocid,
                    "id": call_release_id,
                    "date": _stamp(call_day, rng),
                    "language": "en",
                    "tag": ["award"],
                    "initiationType": "tender",
                    "tender": {
                        "id": f"CO/{call_day.year}/{_ri(rng, 1, 99999):05d}",
                        "title": f"Call-off: {description.lower()}",
                        "status": "complete",
                        "classification": {"scheme": "CPV", "id": cpv, "description": description},
                        "procurementMethod": "limited",
                        "procurementMethodDetails": "Call-off from a framework agreement",
                        "mainProcurementCategory": category,
                    },
                    "parties": [call_party, party],
                    "buyer": {"id": call_party["id"], "name": call_party["name"]},
                    "awards": [
                        {
                            "id": call_award_id,
                            "status": "active",
                            "date": f"{_iso(call_day)}T00:00:00Z",
                            "value": {
                                "amount": int(rng.lognormvariate(11.5, 1)),
                                "currency": "GBP",
                            },
                            "suppliers": [{"id": party["id"], "name": party["name"]}],
                            "contractPeriod": {
                                "startDate": f"{_iso(call_day)}T00:00:00Z",
                                "endDate": f"{_iso(call_end)}T23:59:59Z",
                            },
                        }
                    ],
                    "relatedProcesses": [
                        {
                            "id": "1",
                            "relationship": ["framework"],
                            "title": tender["title"],
                            "scheme": "ocid",
                            "identifier": ocid,
                        }
                    ],
                }
            )
            truth.update(
                {
                    "ocid": call_ocid,
                    "release_id": call_release_id,
                    "award_id": call_award_id,
                    "chain_id": "",
                    "kind": "call_off",
                }
            )
            self.truth.add("supplier_mentions", truth)
            self.mentions += 1
            self.awards += 1


def iterate_lines(path: Path) -> Iterator[bytes]:
    """Lines of a gzipped JSON Lines file (used by tests and the summary)."""
    with gzip.open(path, "rb") as handle:
        yield from handle
