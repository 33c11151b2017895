"""Register loaders: header checks before anything loads, quarantine with reasons, idempotence."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from mutualise.pipeline.registers.formats import (
    COMPANIES_HOUSE_COLUMNS,
    FCA_COLUMNS,
    RegisterFormatError,
)
from mutualise.pipeline.registers.loaders import (
    load_register,
    register_dir,
    register_organisations_sql,
)
from mutualise.pipeline.warehouse import Warehouse

HEADER = ",".join(
    (" " + c if c in ("CompanyNumber", "RegAddress.AddressLine2") else c)
    for c in COMPANIES_HOUSE_COLUMNS
)


def ch_row(
    name: str,
    number: str,
    category: str = "Private Limited Company",
    incorporated: str = "01/02/2010",
    postcode: str = "AB1 2CD",
    accounts: str = "SMALL",
) -> str:
    fields = [""] * 55
    fields[0], fields[1], fields[4], fields[6], fields[9] = (
        name,
        number,
        "1 HIGH STREET",
        "TOWN",
        postcode,
    )
    fields[10], fields[11], fields[14], fields[19] = category, "Active", incorporated, accounts
    return ",".join(f'"{f}"' for f in fields)


def write_ch(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def query(sql: str) -> list[tuple]:
    with duckdb.connect() as connection:
        return connection.execute(sql).fetchall()


def test_companies_house_load_and_quarantine(tmp_path: Path) -> None:
    source = write_ch(
        tmp_path / "BasicCompanyData-2026-11-01-part1_1.csv",
        [
            ch_row("GOOD COMPANY LIMITED", "01234567"),
            ch_row("UNPADDED LTD", "4142000"),
            ch_row("SCOTTISH LTD", "SC123456", category="Community Interest Company"),
            ch_row("BAD NUMBER LTD", "12-34"),
            ch_row("IMPOSSIBLE DATE LTD", "07654321", incorporated="31/02/2019"),
            ch_row("FUTURE LTD", "07654322", incorporated="01/01/2999"),
            ch_row("", "07654323"),
            ch_row("DUPLICATE LTD", "01234567"),
        ],
    )
    summary = load_register("companies-house", [source], tmp_path / "wh")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (8, 3, 5)
    folder = register_dir(Warehouse(tmp_path / "wh"), "companies-house")
    loaded = query(
        f"SELECT identifier, name_normalised, is_cic FROM '{folder}/organisations.parquet' ORDER BY 1"
    )
    assert loaded == [
        ("GB-COH-01234567", "good company", False),
        ("GB-COH-04142000", "unpadded", False),
        ("GB-COH-SC123456", "scottish", True),
    ]
    quarantine = dict(query(f"SELECT line, reason FROM '{folder}/quarantine.parquet'"))
    assert "is not a Companies House number" in quarantine[5]
    assert "'31/02/2019' is not a real dd/mm/yyyy date" in quarantine[6]
    assert "impossible" in quarantine[7]
    assert quarantine[8] == "company name is empty"
    assert "appears more than once" in quarantine[9]


def test_reload_is_idempotent_and_a_changed_file_replaces(tmp_path: Path) -> None:
    source = write_ch(tmp_path / "part1.csv", [ch_row("ONE LIMITED", "00000001")])
    first = load_register("companies-house", [source], tmp_path / "wh")
    again = load_register("companies-house", [source], tmp_path / "wh")
    assert not first.already_loaded and again.already_loaded and again.rows_loaded == 1
    write_ch(source, [ch_row("ONE LIMITED", "00000001"), ch_row("TWO LIMITED", "00000002")])
    changed = load_register("companies-house", [source], tmp_path / "wh")
    assert not changed.already_loaded and changed.rows_loaded == 2
    assert query(f"SELECT count(*) FROM ({register_organisations_sql(tmp_path / 'wh')})") == [(2,)]


def test_changed_header_is_refused_naming_expected_columns_and_nothing_loads(
    tmp_path: Path,
) -> None:
    good = write_ch(tmp_path / "part1.csv", [ch_row("ONE LIMITED", "00000001")])
    load_register("companies-house", [good], tmp_path / "wh")
    renamed = write_ch(
        tmp_path / "part2.csv",
        [ch_row("TWO LIMITED", "00000002")],
        header=HEADER.replace("CompanyCategory", "Category"),
    )
    with pytest.raises(RegisterFormatError) as error:
        load_register("companies-house", [renamed], tmp_path / "wh")
    message = str(error.value)
    assert "column 11 is 'Category', expected 'CompanyCategory'" in message
    assert "Expected columns: CompanyName, CompanyNumber, RegAddress.CareOf" in message
    folder = register_dir(Warehouse(tmp_path / "wh"), "companies-house")
    assert query(f"SELECT name FROM '{folder}/organisations.parquet'") == [("ONE LIMITED",)]


def test_wrong_file_for_register(tmp_path: Path) -> None:
    fca = tmp_path / "SocietyList.csv"
    fca.write_text(",".join(FCA_COLUMNS) + "\n", encoding="utf-8")
    with pytest.raises(RegisterFormatError, match="found 12 columns, expected 55"):
        load_register("companies-house", [fca], tmp_path / "wh")
    not_json = tmp_path / "publicextract.charity.json"
    not_json.write_text("registered_charity_number,charity_name\n", encoding="utf-8")
    with pytest.raises(RegisterFormatError, match="Expected keys: organisation_number"):
        load_register("charities", [not_json], tmp_path / "wh")


def test_fca_and_charities(tmp_path: Path) -> None:
    fca = tmp_path / "SocietyList.csv"
    fca.write_text(
        ",".join(FCA_COLUMNS) + "\r\n"
        '12345,R,12345R,Leewick Community Leisure Limited,Registered Society,"1 Road, Leewick, LS1 4AB",'
        "01/04/2010,,Co-operative and Community Benefit Societies Act 2014,93110,"
        "Community Benefit Society,Registered\r\n"
        "7,R,7R?,Bad Society,Registered Society,x,01/04/2010,,Act,1,Community Benefit Society,Registered\r\n",
        encoding="utf-8-sig",
    )
    summary = load_register("fca", [fca], tmp_path / "wh")
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    row = query(
        f"SELECT identifier, linked_identifier, postcode, is_society FROM "
        f"'{register_dir(Warehouse(tmp_path / 'wh'), 'fca')}/organisations.parquet'"
    )
    assert row == [("GB-MPR-12345R", "GB-COH-IP12345R", "LS1 4AB", True)]
    charity = tmp_path / "publicextract.charity.json"
    record = (
        '{"organisation_number": 1, "registered_charity_number": 1123456, "linked_charity_number": 0, '
        '"charity_name": "The Trust", "charity_type": "Charitable company", '
        '"charity_registration_status": "Registered", "date_of_registration": "2010-01-01T00:00:00", '
        '"date_of_removal": null, "latest_income": 1000.0, "charity_contact_address1": "1 Lane", '
        '"charity_contact_address2": "Town", "charity_contact_postcode": "AB1 2CD", '
        '"charity_company_registration_number": "4142000", "charity_is_cio": false}'
    )
    charity.write_text(f"[{record}]", encoding="utf-8")
    load_register("charities", [charity], tmp_path / "wh")
    row = query(
        f"SELECT identifier, canonical_identifier FROM "
        f"'{register_dir(Warehouse(tmp_path / 'wh'), 'charities')}/organisations.parquet'"
    )
    assert row == [("GB-CHC-1123456", "GB-COH-04142000")]
