from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
import pytest

from mutualise.synth.ocds import NoiseRates, RetenderRates
from mutualise.synth.world import WorldSummary, generate_world

SCHEMA = Path("/work/shared/data/ocds/standard-1.1.5/release-schema.json")
# Exactly as DOMAIN.md §5 and the published file spell it (leading spaces included).
CH_HEADER = (
    "CompanyName, CompanyNumber,RegAddress.CareOf,RegAddress.POBox,RegAddress.AddressLine1,"
    " RegAddress.AddressLine2,RegAddress.PostTown,RegAddress.County,RegAddress.Country,"
    "RegAddress.PostCode,CompanyCategory,CompanyStatus,CountryOfOrigin,DissolutionDate,"
    "IncorporationDate,Accounts.AccountRefDay,Accounts.AccountRefMonth,Accounts.NextDueDate,"
    "Accounts.LastMadeUpDate,Accounts.AccountCategory,Returns.NextDueDate,"
    "Returns.LastMadeUpDate,Mortgages.NumMortCharges,Mortgages.NumMortOutstanding,"
    "Mortgages.NumMortPartSatisfied,Mortgages.NumMortSatisfied,SICCode.SicText_1,"
    "SICCode.SicText_2,SICCode.SicText_3,SICCode.SicText_4,LimitedPartnerships.NumGenPartners,"
    "LimitedPartnerships.NumLimPartners,URI,PreviousName_1.CONDATE, PreviousName_1.CompanyName,"
    " PreviousName_2.CONDATE, PreviousName_2.CompanyName,PreviousName_3.CONDATE,"
    " PreviousName_3.CompanyName,PreviousName_4.CONDATE, PreviousName_4.CompanyName,"
    "PreviousName_5.CONDATE, PreviousName_5.CompanyName,PreviousName_6.CONDATE,"
    " PreviousName_6.CompanyName,PreviousName_7.CONDATE, PreviousName_7.CompanyName,"
    "PreviousName_8.CONDATE, PreviousName_8.CompanyName,PreviousName_9.CONDATE,"
    " PreviousName_9.CompanyName,PreviousName_10.CONDATE, PreviousName_10.CompanyName,"
    "ConfStmtNextDueDate, ConfStmtLastMadeUpDate"
)
FCA_HEADER = [
    "Society Number",
    "Society Suffix",
    "Full Registation Number",
    "Society Name",
    "Registered As",
    "Society Address",
    "Registration Date",
    "Deregistration Date",
    "Registration Act",
    "Standard Industrial Classification Code (SIC)",
    "Reporting Classification",
    "Society Status",
]
CHARITY_FIELDS = {
    "organisation_number",
    "registered_charity_number",
    "linked_charity_number",
    "charity_name",
    "charity_type",
    "charity_registration_status",
    "date_of_registration",
    "date_of_removal",
    "latest_income",
    "charity_contact_postcode",
    "charity_company_registration_number",
    "charity_is_cio",
}
DDMMYYYY = re.compile(r"^(\d{2}/\d{2}/\d{4})?$")


def releases_of(out: Path) -> list[dict]:
    result = []
    for path in sorted((out / "ocds" / "contracts-finder").glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            result.extend(json.loads(line) for line in handle)
    for path in sorted((out / "ocds" / "find-a-tender").glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            for line in handle:
                package = json.loads(line)
                assert package["version"] == "1.1"
                result.extend(package["releases"])
    return result


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", 600, 3, register_rows=500)
    b = generate_world(tmp_path / "b", 600, 3, register_rows=500)
    assert a.releases == b.releases
    first, second = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert first == second
    generate_world(tmp_path / "c", 600, 4, register_rows=500)
    assert digest(tmp_path / "c") != first


def test_programme_json_is_the_programme(world: tuple[Path, WorldSummary]) -> None:
    out, summary = world
    programme = json.loads((out / "programme.json").read_text())
    assert programme["seed"] == summary.seed
    assert len(programme["organisations"]) == 60


def test_companies_house_format(world: tuple[Path, WorldSummary]) -> None:
    out, summary = world
    path = out / "registers" / "companies-house" / "BasicCompanyData-2026-11-01-part1_1.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\n")
        assert header == CH_HEADER
        assert len(header.split(",")) == 55
        rows = 0
        for line in handle:
            assert line.startswith('"') and line.rstrip("\n").endswith('"')
            fields = next(csv.reader([line]))
            assert len(fields) == 55
            assert DDMMYYYY.match(fields[14]) and fields[14]
            assert re.match(r"^(\d{8}|[A-Z]{2}\d{6})$", fields[1])
            assert re.match(r"^\d{5} - ", fields[26])
            rows += 1
    assert rows == summary.register_rows == 3000
    organisations = pq.read_table(out / "truth" / "organisations.parquet").to_pylist()
    expected = {o["register_identifier"][7:] for o in organisations if o["in_companies_house_file"]}
    with path.open(encoding="utf-8", newline="") as handle:
        numbers = {row[" CompanyNumber"] for row in csv.DictReader(handle)}
    assert expected <= numbers
    assert len(numbers) == rows


def test_fca_and_charity_formats(world: tuple[Path, WorldSummary]) -> None:
    out, _ = world
    with (out / "registers" / "fca" / "SocietyList.csv").open(encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        assert next(reader) == FCA_HEADER
        for row in reader:
            assert row[2] == row[0] + row[1]
            assert re.match(r"^\d{1,6}[A-Z]{1,2}$", row[2])
            assert DDMMYYYY.match(row[6])
    charities = json.loads(
        (out / "registers" / "charities" / "publicextract.charity.json").read_text()
    )
    assert charities and all(set(c) >= CHARITY_FIELDS for c in charities)
    assert any(c["charity_company_registration_number"] for c in charities)


def test_releases_validate_against_ocds_schema(world: tuple[Path, WorldSummary]) -> None:
    out, summary = world
    releases = releases_of(out)
    assert len(releases) == summary.releases >= 4000
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft4Validator(schema)
    for release in releases[::8]:
        errors = list(validator.iter_errors(release))
        assert not errors, (release["id"], errors[0].message)
    prefixes = Counter(r["ocid"][:12] for r in releases)
    assert set(prefixes) == {"ocds-b5fd17-", "ocds-h6vhtk-"}
    years = {r["date"][:4] for r in releases}
    assert len(years) >= 10
    tags = Counter(t for r in releases for t in r["tag"])
    for tag in ("planning", "tender", "award", "contract", "awardUpdate", "tenderAmendment"):
        assert tags[tag] > 0, tag
    assert any("lots" in r.get("tender", {}) for r in releases)
    assert any(r.get("relatedProcesses") for r in releases)
    reserved = Counter(
        code
        for r in releases
        for code in r.get("tender", {})
        .get("otherRequirements", {})
        .get("reservedParticipation", [])
    )
    assert reserved["publicService"] > 0 and reserved["publicServiceMissionOrganization"] > 0


def test_truth_matches_the_releases(world: tuple[Path, WorldSummary]) -> None:
    out, _ = world
    releases = releases_of(out)
    mentions = pq.read_table(out / "truth" / "supplier_mentions.parquet").to_pylist()
    keys = {(m["ocid"], m["award_id"], m["supplier_party_id"]) for m in mentions}
    published = set()
    for release in releases:
        for award in release.get("awards", []):
            for supplier in award.get("suppliers", []):
                published.add((release["ocid"], award["id"], supplier["id"]))
    assert published == keys
    organisations = {
        o["key"]: o for o in pq.read_table(out / "truth" / "organisations.parquet").to_pylist()
    }
    programme = json.loads((out / "programme.json").read_text())
    live = {
        o["key"]
        for o in programme["organisations"]
        if o["stage"] in ("LIVE", "GROW_AND_DIVERSIFY", "RETENDER", "OUTCOME")
    }
    suppliers = {m["organisation_key"] for m in mentions}
    assert live <= suppliers  # every live mutual appears as a supplier
    for mention in mentions:
        org = organisations[mention["organisation_key"]]
        assert mention["true_class"] == org["class"]
        assert mention["register_identifier"] == org["register_identifier"]
    predecessors = pq.read_table(out / "truth" / "predecessors.parquet").to_pylist()
    awards = {(p["ocid"], p["award_id"]) for p in predecessors}
    for row in predecessors:
        if row["predecessor_ocid"]:
            assert (row["predecessor_ocid"], row["predecessor_award_id"]) in awards
    outcomes = pq.read_table(out / "truth" / "outcomes.parquet").to_pylist()
    assert {(o["ocid"], o["award_id"]) for o in outcomes} == awards
    buyers = {p["key"] for p in programme["public_bodies"]}
    published_buyers = {r["buyer"]["name"] for r in releases if "buyer" in r}
    assert {b["name"] for b in programme["public_bodies"]} & published_buyers
    assert buyers


def test_noise_roughly_as_configured(world: tuple[Path, WorldSummary]) -> None:
    out, _ = world
    noise = NoiseRates()
    mentions = pq.read_table(out / "truth" / "supplier_mentions.parquet").to_pylist()
    with_number = [m for m in mentions if m["register_identifier"].startswith("GB-COH")]
    coh = sum(m["published_scheme"] == "GB-COH" for m in with_number) / len(with_number)
    assert abs(coh - noise.coh_identifier) < 0.05
    overall = sum(m["published_scheme"] == "GB-COH" for m in mentions) / len(mentions)
    assert 0.15 < overall < 0.4
    private = [m for m in mentions if m["true_class"] != "PUBLIC_BODY"]
    named = sum(bool(m["name_noise"]) for m in private) / len(private)
    assert abs(named - noise.name_variant) < 0.05
    street = sum(m["postcode_in_street"] for m in mentions) / len(mentions)
    assert abs(street - noise.postcode_in_street) < 0.05
    wrong = sum(
        bool(m["published_scale"]) and m["published_scale"] != m["true_scale"] for m in private
    ) / len(private)
    assert abs(wrong - noise.scale_wrong) < 0.03
    unpadded = [
        m
        for m in mentions
        if m["published_scheme"] == "GB-COH" and len(m["published_identifier"]) < 8
    ]
    assert unpadded
    party_ids: dict[str, set[str]] = {}
    for m in mentions:
        party_ids.setdefault(m["organisation_key"], set()).add(m["supplier_party_id"])
    assert any(len(ids) > 2 for ids in party_ids.values())  # one firm, several portal ids


def test_outcome_rates_roughly_as_configured(tmp_path: Path) -> None:
    rates = RetenderRates(
        retained=0.4,
        lost_to_large_private=0.2,
        lost_to_sme_or_vcse=0.15,
        lost_to_public_body=0.05,
        insourced=0.1,
        extended=0.1,
    )
    generate_world(tmp_path, 6000, 21, rates=rates, register_rows=0)
    outcomes = pq.read_table(tmp_path / "truth" / "outcomes.parquet").to_pylist()
    decided = [
        o["outcome"]
        for o in outcomes
        if o["outcome"] not in ("PENDING", "EXTENDED") and not o["programme_key"]
    ]
    counts = Counter(decided)
    weights = dict(
        zip(
            (
                "RETAINED",
                "LOST_TO_LARGE_PRIVATE",
                "LOST_TO_SME_OR_VCSE",
                "LOST_TO_PUBLIC_BODY",
                "INSOURCED",
            ),
            rates.decision_weights(),
            strict=True,
        )
    )
    total = sum(weights.values())
    assert len(decided) > 800
    for outcome, weight in weights.items():
        assert abs(counts[outcome] / len(decided) - weight / total) < 0.05, outcome
    ended = [
        o
        for o in outcomes
        if o["final_end"] and o["contract_end"] <= "2026-10-01" and not o["programme_key"]
    ]
    extended = sum(o["was_extended"] for o in ended) / len(ended)
    assert abs(extended - rates.extended) < 0.04


def test_bad_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_world(tmp_path, 0, 1)
    with pytest.raises(ValueError):
        generate_world(tmp_path, 10, 1, programme_size="huge")
    with pytest.raises(ValueError):
        generate_world(tmp_path, 10, 1, rates=RetenderRates(retained=0.9))
