"""`mutualise fetch contracts-finder` killed with SIGKILL at seeded-random points, then re-run,
ends with exactly what an uninterrupted run leaves: the same raw pages byte for byte, the same
fetch state, and the same ingested tables (no release lost or duplicated).

The fake service (pytest-httpserver, sources_fakes.FakeApi) serves the real Contracts Finder
2025 releases in pages of 10, one window a day, with a short delay per page; the command runs
in its own process through tests/pipeline/cli_launcher.py with the politeness sleeps switched
off and the ingest committing every 20 rows. Kill points: twice while pages are being fetched
(after a random number of pages written), once inside the ingest that follows (after a random
committed batch).

Columns left out of the comparison (the wall-clock time of the run that wrote the row):
`quarantine.quarantined_at`, `ingested_files.finished_at`. Stored file paths are compared
relative to each run's folder.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import orjson
from pytest_httpserver import HTTPServer
from sources_fakes import CF_PATH, FakeApi, load_cf_releases
from tests.pipeline.killing import (
    assert_same_rows,
    batches_committed,
    command,
    environment,
    files_written,
    read_rows,
    run,
    run_and_kill,
)
from werkzeug.wrappers import Request, Response

from mutualise.pipeline.sources.store import RawStore
from mutualise.pipeline.sources.windows import Window
from mutualise.pipeline.warehouse import Warehouse

PAGE_DELAY = 0.01
RUN_SPECIFIC = {"quarantine": ("quarantined_at",), "ingested_files": ("finished_at",)}
KNOBS = {"MUTUALISE_TEST_INGEST_BATCH_SIZE": "20", "MUTUALISE_TEST_FETCH_NO_WAIT": "1"}


def slow_api(httpserver: HTTPServer) -> FakeApi:
    api = FakeApi(
        httpserver,
        CF_PATH,
        "publishedFrom",
        "publishedTo",
        load_cf_releases(),
        page_size=10,
        next_on_last_page=True,
    )

    def handle(request: Request) -> Response:
        time.sleep(PAGE_DELAY)
        return api.handle(request)

    httpserver.expect_request(CF_PATH).respond_with_handler(handle)
    return api


def raw_store(root: Path) -> dict[str, bytes]:
    source = root / "raw" / "contracts_finder"
    return {
        str(path.relative_to(source)): path.read_bytes()
        for path in sorted(source.rglob("*"))
        if path.is_file() and path.name != "state.json"
    }


def tables(root: Path) -> dict[str, object]:
    warehouse = Warehouse(root / "warehouse")
    return {
        name: read_rows(where, RUN_SPECIFIC.get(name, ()), root)
        for name, where in warehouse.table_paths().items()
    }


def test_fetch_killed_three_times_then_rerun_matches_uninterrupted_run(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    api = slow_api(httpserver)
    arguments = command(
        "fetch",
        "contracts-finder",
        "--from",
        "2025-01-21",
        "--to",
        "2025-03-11",
        "--base-url",
        api.base_url,
    )
    reference_root = tmp_path / "reference"
    killed_root = tmp_path / "killed"

    run(arguments, environment(reference_root, **KNOBS))
    pages = len(raw_store(reference_root))
    manifest = reference_root / "warehouse" / "raw" / "_manifest.json"
    batches = len(orjson.loads(manifest.read_bytes())["batches"])
    assert pages >= 40 and batches >= 5, (pages, batches)

    rng = random.Random(20250311)
    first = rng.randint(3, pages // 3)
    second = rng.randint(3, pages // 3)
    batch = rng.randint(1, batches - 2)
    env = environment(killed_root, **KNOBS)
    page_glob = "*/page-*.json"
    source_dir = killed_root / "raw" / "contracts_finder"
    plan = [
        ("page", lambda: files_written(source_dir, page_glob, first), rng.uniform(0, PAGE_DELAY)),
        ("page", lambda: files_written(source_dir, page_glob, second), rng.uniform(0, PAGE_DELAY)),
        (
            "ingest",
            lambda: batches_committed(killed_root / "warehouse", batch),
            rng.uniform(0, 0.01),
        ),
    ]
    for point, make_trigger, delay in plan:
        calls_before = len(api.calls)
        killed = run_and_kill(arguments, env, make_trigger(), delay)
        assert not killed.finished, (
            f"the fetch finished (exit {killed.returncode}) before the kill at {point}:"
            f" the kill did not land mid-run\n{killed.output[-2000:]}"
        )
        if point == "page":
            # Killed while fetching: the state says the run is still going, and the pages it
            # names as done are all on disk.
            state = orjson.loads((source_dir / "state.json").read_bytes())
            assert state["status"] == "running"
            assert len(api.calls) > calls_before
            store = RawStore(killed_root / "raw", "contracts_finder")
            for window in state["windows_done"]:
                assert store.pages(Window.from_json(window)), window
        else:
            assert not (killed_root / "warehouse" / "raw" / "ingested_files.parquet").exists()

    run(arguments, env)

    assert raw_store(killed_root) == raw_store(reference_root)
    reference_state = orjson.loads(
        (reference_root / "raw/contracts_finder/state.json").read_bytes()
    )
    state = orjson.loads((killed_root / "raw/contracts_finder/state.json").read_bytes())
    assert state == reference_state
    assert state["status"] == "complete"
    expected = tables(reference_root)
    got = tables(killed_root)
    assert sorted(got) == sorted(expected)
    assert "releases" in expected
    for name in expected:
        assert_same_rows(name, expected[name], got[name])  # type: ignore[arg-type]
    # Every release served is in the warehouse once: kept, or quarantined with a reason.
    kept = sum(got["releases"][1].values())  # type: ignore[index]
    quarantined = sum(got["quarantine"][1].values()) if "quarantine" in got else 0  # type: ignore[index]
    assert kept + quarantined == len(load_cf_releases())
