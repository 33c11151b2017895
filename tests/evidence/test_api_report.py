"""The open data API, the OCDS export, the report and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource

from mutualise.evidence.report import ReportError, write_report

pytestmark = pytest.mark.django_db
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "src/mutualise/pipeline/schema/standard"


def test_api_serves_the_same_tables(client, snapshot):
    assert client.get("/api/snapshot").json()["snapshot_id"] == snapshot.snapshot_id
    metrics = client.get("/api/metrics").json()
    assert {m["slug"] for m in metrics} >= {"contract-share", "retender-outcomes"}
    table = client.get("/api/metrics/fund-money").json()
    assert table["rows"][0]["committed_pence"] == 1_900_000
    rows = client.get("/api/metrics/contract-share/rows?measure=value_pence&k_year=2024").json()
    assert rows["measure_sum"] == 400_00 and rows["total_rows"] == 2


def test_api_errors_are_json_with_status_codes(client, snapshot):
    assert client.get("/api/metrics/nothing").status_code == 404
    response = client.get("/api/metrics/contract-share?region=atlantis")
    assert response.status_code == 400 and "detail" in response.json()
    assert client.get("/api/metrics/contract-share?year_from=abc").status_code == 422
    assert client.get("/api/metrics/contract-share/rows?page_size=5000").status_code == 400


def test_api_without_snapshot_is_404(client, db):
    assert client.get("/api/snapshot").status_code == 404


def test_api_docs_are_served(client, db):
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/openapi.json").json()["info"]["title"] == "Mutualise open data"


def test_programme_contracts_are_valid_ocds(client, snapshot):
    package = client.get("/evidence/ocds/programme-contracts.json").json()
    assert len(package["releases"]) == 2  # ocds-a and ocds-c are held by the programme's mutual
    release_schema = json.loads((SCHEMA_DIR / "release-schema.json").read_text())
    package_schema = json.loads((SCHEMA_DIR / "release-package-schema.json").read_text())
    registry = Registry().with_resource(
        release_schema["id"], Resource.from_contents(release_schema)
    )
    errors = list(Draft4Validator(package_schema, registry=registry).iter_errors(package))
    assert not errors, [e.message for e in errors[:5]]
    assert client.get("/api/ocds/programme-contracts").json()["releases"] == package["releases"]


def test_report_is_reproducible_and_names_the_snapshot(snapshot, tmp_path):
    first = write_report("2025", tmp_path / "one")
    second = write_report("2025", tmp_path / "two")
    html = first.html.read_text()
    assert html == second.html.read_text()
    assert snapshot.snapshot_id in html
    assert "<svg" in html and "State of the programme: 2025" in html
    assert first.pdf.read_bytes().startswith(b"%PDF")


def test_report_errors_are_plain(db, tmp_path):
    with pytest.raises(ReportError, match="no data snapshot"):
        write_report("2025", tmp_path)
    with pytest.raises(ReportError, match="a year like 2025"):
        write_report("last year", tmp_path)


def test_cli_report_fails_in_one_line(db, tmp_path):
    from typer.testing import CliRunner

    from mutualise.cli import app

    result = CliRunner().invoke(app, ["report", "--period", "20x5", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "a year like 2025" in result.output
