from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import mutualise.pipeline.validate as validate_module
from mutualise.pipeline.validate import validate

CF_2025 = Path("cfserver1-2019-2025") / "contracts-finder-2025-01-to-03.releases.jsonl"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validation tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def release(number: int, **fields: object) -> dict:
    return {
        "ocid": f"ocds-b5fd17-v{number}",
        "id": f"r{number}",
        "date": "2025-01-01T00:00:00Z",
        "tag": ["tender"],
        "initiationType": "tender",
        **fields,
    }


def test_validate_reports_schema_errors_offline(samples: Path, no_network: None) -> None:
    report = validate(samples / CF_2025)
    assert report.releases == 200 and report.valid_releases >= 190
    # The known invalid URL ("http://Contract Finder") is reported with where it was found.
    assert any(path.endswith("documents/*/url") for path, _ in report.errors)
    # libcoveocds' additional checks run too: two releases have an empty procurementMethodDetails.
    assert report.warnings["empty_field"] >= 2
    # A file of bare releases is wrapped in a package of ours, whose metadata is not reported.
    assert not report.package_errors


def test_publisher_package_metadata_is_checked(tmp_path: Path, no_network: None) -> None:
    path = tmp_path / "package.json"
    path.write_text(json.dumps({"version": "1.1", "releases": [release(1)]}))
    report = validate(path)
    assert report.valid_releases == report.releases == 1
    assert ("(package)", "required") in report.package_errors  # no uri, publishedDate, publisher
    assert not report.ok


def test_uk_extension_codes_and_fields_are_known(tmp_path: Path, no_network: None) -> None:
    party = {"id": "GB-COH-1", "name": "A", "roles": ["removedSupplier"]}  # +partyRole.csv
    tender = {"id": "t", "suitability": {"sme": True, "vcse": False}}  # UK extension field
    path = tmp_path / "releases.jsonl"
    path.write_text(json.dumps(release(1, parties=[party], tender=tender)) + "\n")
    report = validate(path)
    assert report.ok, (report.errors, report.warnings)
    assert not any("roles" in check for check in report.warnings)


def test_errors_point_at_the_line_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    monkeypatch.setattr(validate_module, "CHUNK", 2)
    lines = [release(n) for n in range(5)]
    lines[3]["tender"] = {"id": "t", "value": {"amount": "lots"}}
    path = tmp_path / "releases.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = validate(path)
    assert (report.releases, report.valid_releases) == (5, 4)
    [(key, examples)] = [(key, report.examples[key]) for key in report.errors]
    assert key == ("tender/value/amount", "number")  # libcove names a type error by the type
    assert "line 4," in examples[0]


def test_records_are_validated_as_records(samples: Path, no_network: None) -> None:
    report = validate(samples / "contracts-finder-2014-2016" / "records")
    assert report.files >= 1 and report.releases >= 1


def test_record_packages_resolve_the_standard_offline(tmp_path: Path, no_network: None) -> None:
    """The record package schema refers to the versioned release schema by URL."""
    record = {"ocid": "ocds-b5fd17-v1", "releases": [release(1)], "compiledRelease": release(1)}
    path = tmp_path / "records.json"
    path.write_text(json.dumps({"records": [record], "version": "1.1"}))
    report = validate(path)
    assert report.releases == report.valid_releases == 1


def test_hostile_values_are_reported_not_raised(tmp_path: Path, no_network: None) -> None:
    from typer.testing import CliRunner

    from mutualise.cli import app

    path = tmp_path / "hostile.jsonl"
    path.write_text(
        '[1,2]\n"x"\n{"releases": 5}\n{"records": [1]}\n{"ocid":"o","tender":5}\n'
        '{"releases":[null,{"ocid":1}]}\n{"version":"9.9","releases":[{"ocid":"a"}]}\n{"a": \n'
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # not a crash
    assert "0 of 9 releases valid" in result.output and "could not be read" in result.output
