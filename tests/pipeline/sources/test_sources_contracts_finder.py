"""Contracts Finder: cursor pagination, encodings, 403 waits, resume and incremental runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sources_fakes import FakeApi, snapshot

from mutualise.pipeline.sources.client import RatePolicy
from mutualise.pipeline.sources.clock import FakeClock
from mutualise.pipeline.sources.contracts_finder import fetch_contracts_finder
from mutualise.pipeline.sources.errors import FetchError, PermanentHttpError
from mutualise.pipeline.sources.report import FetchReporter
from mutualise.pipeline.sources.store import RawStore

# Three one-day windows; the sample has 100 releases on 2025-01-23 (served 30 a page).
START = datetime(2025, 1, 22, tzinfo=UTC)
END = datetime(2025, 1, 25, tzinfo=UTC)
DAY_23 = "20250123T000000Z_20250124T000000Z"


class Crash(Exception):
    pass


class CrashAfter(FetchReporter):
    """Stands in for a crash (power cut, Ctrl-C) once `pages` pages have been saved."""

    def __init__(self, pages: int) -> None:
        self.remaining = pages

    def page_saved(self, window: Any, number: int, releases: int, fetched: bool) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            raise Crash(f"crash after {window.name} page {number}")


SHARED_HTTP = httpx.Client(timeout=10.0)


def run(api: FakeApi, raw_dir: Path, clock: FakeClock, **options: Any) -> Any:
    options.setdefault("http", SHARED_HTTP)
    options.setdefault("start", START)
    options.setdefault("end", END)
    return fetch_contracts_finder(raw_dir=raw_dir, base_url=api.base_url, clock=clock, **options)


def test_follows_cursors_until_the_empty_last_page(
    contracts_finder_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    summary = run(contracts_finder_api, raw_dir, clock)

    # Day 22: one empty page. Day 23: 30+30+30+10 releases, then the empty page that
    # still carries a links.next (as the real service does). Day 24: one empty page.
    assert summary.pages_fetched == 1 + 5 + 1
    assert summary.releases == 100
    assert summary.windows_total == summary.windows_fetched == 3
    calls = contracts_finder_api.calls
    assert [c["from"] for c in calls] == ["2025-01-22T00:00:00"] + ["2025-01-23T00:00:00"] * 5 + [
        "2025-01-24T00:00:00"
    ]
    assert all(c["limit"] == "100" for c in calls)
    assert calls[1]["cursor"] is None and all(c["cursor"] for c in calls[2:6])

    pages = sorted((raw_dir / "contracts_finder" / DAY_23).glob("page-*.json"))
    assert [p.name for p in pages] == [f"page-0000{n}.json" for n in range(1, 6)]
    ocids = [r["ocid"] for p in pages for r in json.loads(p.read_bytes())["releases"]]
    assert len(ocids) == 100 and all(o.startswith("ocds-b5fd17-") for o in ocids)
    assert summary.paths == sorted(summary.paths, key=lambda p: (p.parent.name, p.name))
    assert len(summary.paths) == 7

    state = json.loads((raw_dir / "contracts_finder" / "state.json").read_text())
    assert state["status"] == "complete"
    assert state["last_completed_to"] == "2025-01-25T00:00:00Z"
    assert len(state["windows_done"]) == 3
    # Polite: one second between requests, never concurrent.
    assert clock.sleeps == [1.0] * 6


def test_stages_are_passed_through(
    contracts_finder_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    run(contracts_finder_api, raw_dir, clock, stages="tender,award")
    assert {c["stages"] for c in contracts_finder_api.calls} == {"tender,award"}


def test_iso_8859_1_pages_are_stored_as_utf8(
    contracts_finder_api: FakeApi, raw_dir: Path, clock: FakeClock, cf_releases: list[dict]
) -> None:
    # Serve only releases whose text fits Windows-1252, with a pound sign added.
    latin = [r for r in cf_releases if _fits_cp1252(r)][:5]
    for release in latin:
        release["tender"]["description"] = "Budget \u00a3250,000 \u2013 \u2018caf\u00e9\u2019"
        release["date"] = "2025-01-23T10:00:00Z"
    contracts_finder_api.releases = latin
    contracts_finder_api.charset_by_window["2025-01-23T00:00:00"] = "iso-8859-1"

    summary = run(contracts_finder_api, raw_dir, clock)

    assert summary.pages_transcoded == 2  # the page with releases and the empty last page
    page = raw_dir / "contracts_finder" / DAY_23 / "page-00001.json"
    stored = json.loads(page.read_bytes().decode("utf-8"))
    assert [r["tender"]["description"] for r in stored["releases"]] == [
        "Budget \u00a3250,000 \u2013 \u2018caf\u00e9\u2019"
    ] * 5


def test_403_too_many_requests_waits_300_seconds_then_carries_on(
    contracts_finder_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    contracts_finder_api.fail(403)
    waits: list[tuple[float, str]] = []

    class Recorder(FetchReporter):
        def waiting(self, seconds: float, reason: str) -> None:
            waits.append((seconds, reason))

    summary = run(contracts_finder_api, raw_dir, clock, reporter=Recorder())

    assert waits == [(300.0, "rate limited (HTTP 403)")]
    assert 300.0 in clock.sleeps
    assert summary.rate_limit_waits == 1 and summary.rate_limit_seconds == 300.0
    assert summary.pages_fetched == 7  # nothing lost or doubled by the wait


@pytest.mark.parametrize("crash_after", [1, 3, 6])
def test_an_interrupted_run_resumes_where_it_stopped(
    contracts_finder_api: FakeApi, tmp_path: Path, clock: FakeClock, crash_after: int
) -> None:
    reference_dir = tmp_path / "reference"
    run(contracts_finder_api, reference_dir, clock)
    uninterrupted = list(contracts_finder_api.calls)
    contracts_finder_api.calls.clear()

    raw_dir = tmp_path / "raw"
    with pytest.raises(Crash):
        run(contracts_finder_api, raw_dir, clock, reporter=CrashAfter(crash_after))
    first_part = list(contracts_finder_api.calls)
    assert len(first_part) == crash_after
    state = json.loads((raw_dir / "contracts_finder" / "state.json").read_text())
    assert state["status"] == "running"

    contracts_finder_api.calls.clear()
    summary = run(contracts_finder_api, raw_dir, clock)

    # The rerun starts with page k+1: no page fetched twice, none skipped.
    assert summary.resumed
    assert first_part + contracts_finder_api.calls == uninterrupted
    assert summary.pages_reused == 0
    assert snapshot(raw_dir) == snapshot(reference_dir)


def test_a_page_written_just_before_a_crash_is_not_fetched_again(
    contracts_finder_api: FakeApi,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference_dir = tmp_path / "reference"
    run(contracts_finder_api, reference_dir, clock)
    uninterrupted = list(contracts_finder_api.calls)
    contracts_finder_api.calls.clear()

    # Crash after page 2 of 2025-01-23 is on disk but before the state records it.
    original = RawStore.save_state

    def save_state(self: RawStore, state: Any) -> None:
        window = state.current_window
        if window and window[0].startswith("2025-01-23") and state.page == 3:
            raise Crash("power cut")
        original(self, state)

    raw_dir = tmp_path / "raw"
    monkeypatch.setattr(RawStore, "save_state", save_state)
    with pytest.raises(Crash):
        run(contracts_finder_api, raw_dir, clock)
    monkeypatch.setattr(RawStore, "save_state", original)
    first_part = list(contracts_finder_api.calls)
    assert (raw_dir / "contracts_finder" / DAY_23 / "page-00002.json").exists()

    contracts_finder_api.calls.clear()
    summary = run(contracts_finder_api, raw_dir, clock)

    assert summary.pages_reused == 1
    assert first_part + contracts_finder_api.calls == uninterrupted
    assert snapshot(raw_dir) == snapshot(reference_dir)


def test_temporary_files_a_killed_run_left_are_removed_on_the_next_run(
    contracts_finder_api: FakeApi, tmp_path: Path, clock: FakeClock
) -> None:
    """A kill between writing a temporary file and renaming it leaves the temporary file."""
    reference_dir = tmp_path / "reference"
    run(contracts_finder_api, reference_dir, clock)
    raw_dir = tmp_path / "raw"
    source_dir = raw_dir / "contracts_finder"
    (source_dir / DAY_23).mkdir(parents=True)
    (source_dir / ".state.json.k1ll3d.tmp").write_text('{"status": "running"')
    (source_dir / DAY_23 / ".page-00001.json.k1ll3d.tmp").write_text("[half a page")
    run(contracts_finder_api, raw_dir, clock)
    assert list(source_dir.rglob("*.tmp")) == []
    assert snapshot(raw_dir) == snapshot(reference_dir)


def test_a_second_fetch_of_the_same_source_is_refused(
    contracts_finder_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    import fcntl

    from mutualise.pipeline.sources.errors import FetchBusy

    source_dir = raw_dir / "contracts_finder"
    source_dir.mkdir(parents=True)
    with (source_dir / ".lock").open("a") as other:  # another process's fetch, as flock sees it
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(FetchBusy, match="another fetch of contracts_finder is running"):
            run(contracts_finder_api, raw_dir, clock)
    assert contracts_finder_api.calls == []
    run(contracts_finder_api, raw_dir, clock)  # free again
    assert contracts_finder_api.calls


def test_incremental_run_fetches_only_what_is_new(
    contracts_finder_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    run(contracts_finder_api, raw_dir, clock, end=datetime(2025, 1, 23, tzinfo=UTC))
    assert {c["from"] for c in contracts_finder_api.calls} == {"2025-01-22T00:00:00"}
    contracts_finder_api.calls.clear()

    summary = run(contracts_finder_api, raw_dir, clock, start=None)

    assert summary.requested_from == "2025-01-23T00:00:00Z"
    assert summary.requested_to == "2025-01-25T00:00:00Z"
    assert sorted({c["from"] for c in contracts_finder_api.calls}) == [
        "2025-01-23T00:00:00",
        "2025-01-24T00:00:00",
    ]
    assert summary.releases == 100


def test_incremental_run_ends_at_now_and_then_is_up_to_date(
    contracts_finder_api: FakeApi, raw_dir: Path
) -> None:
    clock = FakeClock(start=datetime(2025, 1, 24, 12, tzinfo=UTC))
    no_spacing = RatePolicy(min_interval=0, rate_limit_statuses=frozenset({403}), fixed_wait=300)
    first = run(contracts_finder_api, raw_dir, clock, end=None, policy=no_spacing)
    assert first.requested_to == "2025-01-24T12:00:00Z"  # never later than now
    calls = len(contracts_finder_api.calls)

    again = run(contracts_finder_api, raw_dir, clock, start=None, end=None, policy=no_spacing)
    assert again.up_to_date and len(contracts_finder_api.calls) == calls

    clock.sleep(3600)
    later = run(contracts_finder_api, raw_dir, clock, start=None, end=None)
    assert (later.requested_from, later.requested_to) == (
        "2025-01-24T12:00:00Z",
        "2025-01-24T13:00:00Z",
    )
    assert [c["from"] for c in contracts_finder_api.calls[calls:]] == ["2025-01-24T12:00:00"]


def test_without_history_a_start_date_is_required(
    contracts_finder_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    with pytest.raises(FetchError, match="give a start date"):
        run(contracts_finder_api, raw_dir, clock, start=None)
    with pytest.raises(FetchError, match="not after the start"):
        run(contracts_finder_api, raw_dir, clock, end=START)


def test_a_permanent_error_stops_with_the_url_and_status(
    contracts_finder_api: FakeApi, raw_dir: Path, clock: FakeClock
) -> None:
    contracts_finder_api.fail(400)
    with pytest.raises(PermanentHttpError) as caught:
        run(contracts_finder_api, raw_dir, clock)
    assert caught.value.status == 400
    assert "/Published/Notices/OCDS/Search?publishedFrom=2025-01-22T00%3A00%3A00" in str(
        caught.value
    )


def _fits_cp1252(release: dict) -> bool:
    try:
        json.dumps(release, ensure_ascii=False).encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True
