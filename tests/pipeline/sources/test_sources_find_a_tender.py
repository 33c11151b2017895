"""Find a Tender: 6-hour windows, 429 backoff, spacing, quirky JSON stored as received."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sources_fakes import FakeApi, snapshot

from mutualise.pipeline.sources.clock import FakeClock
from mutualise.pipeline.sources.find_a_tender import fetch_find_a_tender
from mutualise.pipeline.sources.report import FetchReporter

# 40 releases, one every 37 minutes from 2025-03-01T00:00Z (the last at 24:03), 4 a page.
START = datetime(2025, 3, 1, tzinfo=UTC)
END = START + timedelta(days=1)


SHARED_HTTP = httpx.Client(timeout=10.0)


def run(api: FakeApi, raw_dir: Path, clock: FakeClock, **options: Any) -> Any:
    options.setdefault("http", SHARED_HTTP)
    options.setdefault("start", START)
    options.setdefault("end", END)
    return fetch_find_a_tender(raw_dir=raw_dir, base_url=api.base_url, clock=clock, **options)


def test_a_day_is_fetched_in_four_six_hour_windows(
    find_a_tender_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    summary = run(find_a_tender_api, raw_dir, clock)

    windows = sorted({(c["from"], c["to"]) for c in find_a_tender_api.calls})
    assert windows == [
        ("2025-03-01T00:00:00Z", "2025-03-01T06:00:00Z"),
        ("2025-03-01T06:00:00Z", "2025-03-01T12:00:00Z"),
        ("2025-03-01T12:00:00Z", "2025-03-01T18:00:00Z"),
        ("2025-03-01T18:00:00Z", "2025-03-02T00:00:00Z"),
    ]
    # 39 releases fall on 1 March: 10 + 10 + 10 + 9, four a page, no links.next at the end.
    assert summary.releases == 39
    assert summary.pages_fetched == 3 + 3 + 3 + 3
    assert sorted(p.name for p in (raw_dir / "find_a_tender").iterdir()) == [
        ".lock",  # one fetch of a source at a time
        "20250301T000000Z_20250301T060000Z",
        "20250301T060000Z_20250301T120000Z",
        "20250301T120000Z_20250301T180000Z",
        "20250301T180000Z_20250302T000000Z",
        "state.json",
    ]
    # Ten seconds between requests (about 6 a minute, under 12 per 2 minutes).
    assert clock.sleeps == [10.0] * (summary.pages_fetched - 1)


def test_quirky_json_is_stored_exactly_as_received(
    find_a_tender_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    summary = run(find_a_tender_api, raw_dir, clock)

    first_page = raw_dir / "find_a_tender" / "20250301T000000Z_20250301T060000Z" / "page-00001.json"
    second_page = first_page.with_name("page-00002.json")
    raw = first_page.read_bytes() + second_page.read_bytes()
    assert b'"amount":1e9999' in raw
    assert b'"amount":250 000,' in raw
    # The page with `250 000,` cannot be parsed by anything strict, yet its next link
    # was found and every release counted.
    assert summary.pages_not_json == 1
    assert summary.releases == 39
    assert json.loads(first_page.read_bytes())["releases"][3]["tender"]["value"]["amount"] == float(
        "inf"
    )


def test_429_backs_off_from_60_seconds_unless_told_otherwise(
    find_a_tender_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    find_a_tender_api.fail(429)
    find_a_tender_api.fail(429)
    find_a_tender_api.fail(429, headers={"Retry-After": "30"})
    waits: list[float] = []

    class Recorder(FetchReporter):
        def waiting(self, seconds: float, reason: str) -> None:
            waits.append(seconds)

    summary = run(find_a_tender_api, raw_dir, clock, reporter=Recorder())

    assert waits == [60.0, 120.0, 30.0]
    assert summary.rate_limit_waits == 3
    assert summary.pages_fetched == 12


def test_resume_across_windows_matches_an_uninterrupted_run(
    find_a_tender_api: FakeApi, tmp_path: Path, clock: FakeClock
) -> None:
    run(find_a_tender_api, tmp_path / "reference", clock)
    uninterrupted = list(find_a_tender_api.calls)
    find_a_tender_api.calls.clear()

    class Crash(Exception):
        pass

    class CrashInSecondWindow(FetchReporter):
        def page_saved(self, window: Any, number: int, releases: int, fetched: bool) -> None:
            if window.start.hour == 6 and number == 2:
                raise Crash

    raw_dir = tmp_path / "raw"
    with pytest.raises(Crash):
        run(find_a_tender_api, raw_dir, clock, reporter=CrashInSecondWindow())
    before = list(find_a_tender_api.calls)
    find_a_tender_api.calls.clear()

    # No --from: an interrupted run is resumed rather than started afresh.
    summary = run(find_a_tender_api, raw_dir, clock, start=None, end=None)

    assert summary.resumed and summary.windows_skipped == 1
    assert before + find_a_tender_api.calls == uninterrupted
    assert snapshot(raw_dir) == snapshot(tmp_path / "reference")


def test_a_new_range_replaces_an_interrupted_one_and_clears_stale_pages(
    find_a_tender_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    run(find_a_tender_api, raw_dir, clock)
    window_dir = raw_dir / "find_a_tender" / "20250301T000000Z_20250301T060000Z"
    (window_dir / "page-00009.json").write_bytes(b"{}")  # left over from something older

    run(find_a_tender_api, raw_dir, clock, end=START + timedelta(hours=6))

    assert sorted(p.name for p in window_dir.iterdir()) == [
        "page-00001.json",
        "page-00002.json",
        "page-00003.json",
    ]
    state = json.loads((raw_dir / "find_a_tender" / "state.json").read_text())
    # An older range never moves the incremental starting point backwards.
    assert state["last_completed_to"] == "2025-03-02T00:00:00Z"
