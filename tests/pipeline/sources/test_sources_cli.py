"""`fetch` commands on a local Typer app: success, ingest hand-off, one-line failures."""

from __future__ import annotations

import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sources_fakes import FakeApi
from typer.testing import CliRunner

from mutualise.pipeline.sources import cli
from mutualise.pipeline.sources.clock import FakeClock


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(cli, "make_clock", lambda: FakeClock(datetime(2025, 4, 1, tzinfo=UTC)))
    root = typer.Typer()

    @root.callback()
    def main() -> None:
        """Root command, as the lead's CLI will have."""

    cli.register(root)
    return root


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fake_ingest(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("mutualise.pipeline.ingest")

    def ingest(
        paths: list[Path],
        warehouse_dir: Path | None = None,
        source: str | None = None,
        progress: Any = None,
    ) -> str:
        calls.append({"paths": paths, "warehouse_dir": warehouse_dir, "source": source})
        return f"{len(paths)} files ingested"

    module.ingest = ingest  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mutualise.pipeline.ingest", module)
    return calls


def invoke(runner: CliRunner, app: typer.Typer, *arguments: str) -> Any:
    return runner.invoke(app, list(arguments), catch_exceptions=False)


def test_contracts_finder_fetches_and_summarises_without_ingest(
    runner: CliRunner, app: typer.Typer, contracts_finder_api: FakeApi, raw_dir: Path
) -> None:
    result = invoke(
        runner,
        app,
        "fetch",
        "contracts-finder",
        "--from",
        "2025-01-22",
        "--to",
        "2025-01-24",
        "--base-url",
        contracts_finder_api.base_url,
        "--raw-dir",
        str(raw_dir),
        "--no-ingest",
    )
    assert result.exit_code == 0, result.output
    assert "Contracts Finder: 2025-01-22T00:00:00Z to 2025-01-25T00:00:00Z" in result.output
    assert "windows: 3 (3 fetched, 0 already done)" in result.output
    assert "releases: 100" in result.output
    assert "ingest: skipped (--no-ingest)" in result.output
    assert (raw_dir / "contracts_finder" / "state.json").exists()


def test_find_a_tender_hands_its_pages_to_the_ingest(
    runner: CliRunner,
    app: typer.Typer,
    find_a_tender_api: FakeApi,
    raw_dir: Path,
    fake_ingest: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MUTUALISE_RAW_DIR", str(raw_dir))
    result = invoke(
        runner,
        app,
        "fetch",
        "find-a-tender",
        "--from",
        "2025-03-01T00:00:00Z",
        "--to",
        "2025-03-01T12:00:00Z",
        "--base-url",
        find_a_tender_api.base_url,
    )
    assert result.exit_code == 0, result.output
    assert "windows: 2 (2 fetched" in result.output
    assert "ingest: 6 files ingested" in result.output
    (call,) = fake_ingest
    assert call["source"] == "find_a_tender"
    assert all(p.is_relative_to(raw_dir / "find_a_tender") for p in call["paths"])

    # A second run with no --from is incremental and, with nothing new, says so.
    result = invoke(
        runner,
        app,
        "fetch",
        "find-a-tender",
        "--to",
        "2025-03-01T12:00:00Z",
        "--base-url",
        find_a_tender_api.base_url,
    )
    assert result.exit_code == 0, result.output
    assert "up to date (nothing new since 2025-03-01T12:00:00Z)" in result.output
    assert len(fake_ingest) == 1
    # Later, with no --to either: from the last end up to now.
    later = FakeClock(datetime(2025, 3, 1, 18, tzinfo=UTC))
    monkeypatch.setattr(cli, "make_clock", lambda: later)
    result = invoke(runner, app, "fetch", "find-a-tender", "--base-url", find_a_tender_api.base_url)
    assert result.exit_code == 0, result.output
    assert "2025-03-01T12:00:00Z to 2025-03-01T18:00:00Z" in result.output
    assert "windows: 1 (1 fetched" in result.output


def test_bulk_local_file_is_handed_to_the_ingest(
    runner: CliRunner, app: typer.Typer, tmp_path: Path, fake_ingest: list[dict[str, Any]]
) -> None:
    local = tmp_path / "releases.jsonl"
    local.write_text('{"ocid": "ocds-b5fd17-1", "id": "1"}\n')
    result = invoke(runner, app, "fetch", "bulk", str(local))
    assert result.exit_code == 0, result.output
    assert fake_ingest[0]["paths"] == [local] and fake_ingest[0]["source"] == "bulk"


def test_missing_ingest_is_reported_not_fatal(
    runner: CliRunner,
    app: typer.Typer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "mutualise.pipeline.ingest", None)  # import fails
    local = tmp_path / "releases.jsonl"
    local.write_text("{}\n")
    result = invoke(runner, app, "fetch", "bulk", str(local))
    assert result.exit_code == 0, result.output
    assert "ingest: not run" in result.output


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--from", "2025-02-30"], "error: --from: not a date: '2025-02-30'"),
        (["--from", "last tuesday"], "error: --from: not a date"),
        (["--from", "2025-03-02", "--to", "2025-03-01"], "error: --to (2025-03-01) must be after"),
        (["--from", "2025-03-01", "--base-url", "ftp://x"], "error: --base-url: not an http(s)"),
        (["--to", "2025-03-01"], "error: Find a Tender: no earlier Find a Tender run"),
        (
            ["--from", "2025-03-01", "--base-url", "http://127.0.0.1:1"],
            "error: Find a Tender: could not reach http://127.0.0.1:1/api/1.0/ocdsReleasePackages",
        ),
    ],
)
def test_bad_input_gives_one_line_and_a_non_zero_exit(
    runner: CliRunner, app: typer.Typer, raw_dir: Path, arguments: list[str], expected: str
) -> None:
    result = invoke(
        runner, app, "fetch", "find-a-tender", "--raw-dir", str(raw_dir), "--no-ingest", *arguments
    )
    assert result.exit_code != 0
    assert expected in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "Traceback" not in result.output


def test_permanent_http_error_is_one_line(
    runner: CliRunner, app: typer.Typer, contracts_finder_api: FakeApi, raw_dir: Path
) -> None:
    contracts_finder_api.fail(404)
    result = invoke(
        runner,
        app,
        "fetch",
        "contracts-finder",
        "--from",
        "2025-01-22",
        "--to",
        "2025-01-22",
        "--base-url",
        contracts_finder_api.base_url,
        "--raw-dir",
        str(raw_dir),
    )
    assert result.exit_code == 1
    assert "error: Contracts Finder: HTTP 404" in result.output
    assert "/Published/Notices/OCDS/Search?publishedFrom=2025-01-22T00%3A00%3A00" in result.output


def test_bulk_missing_file_and_bad_url(runner: CliRunner, app: typer.Typer, tmp_path: Path) -> None:
    result = invoke(runner, app, "fetch", "bulk", str(tmp_path / "nope.jsonl.gz"))
    assert result.exit_code == 1 and "error: no such file" in result.output
    result = invoke(
        runner, app, "fetch", "bulk", "http://127.0.0.1:1/f.jsonl", "--raw-dir", str(tmp_path)
    )
    assert result.exit_code == 1 and "error: could not reach http://127.0.0.1:1" in result.output
