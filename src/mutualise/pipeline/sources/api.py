"""Fetching a cursor-paged OCDS release-package API into the raw store, resumably.

Both UK services answer a search with an OCDS release package whose `links.next` is the
full URL of the next page, carrying an opaque `cursor` parameter (the OCDS pagination
extension). Contracts Finder keeps sending a `links.next` even on its empty last page, so
an empty page (or a cursor that repeats) ends a window.

The loop, per query window:

1. ask for the page numbered `state.page` (with `state.cursor`, if any);
2. write the page to disk (temporary file, then rename) before reading anything in it;
3. read its `links.next`, then save the state (atomically) with the next page number and
   cursor, or mark the window done.

An interrupted run therefore resumes with the first page not yet on disk; a page written
just before a crash but not yet recorded in the state is read back from disk, not fetched
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from .client import PoliteClient, RatePolicy
from .clock import Clock, SystemClock
from .errors import FetchError
from .pages import as_utf8, cursor_of, inspect_page
from .report import FetchReporter, FetchSummary
from .store import FetchState, RawStore, default_raw_dir
from .windows import Window, iso, parse_moment, split_windows

PAGE_SIZE = 100


@dataclass(frozen=True)
class ApiSource:
    """What differs between the two services."""

    name: str  # also the directory under raw_dir
    title: str
    default_base_url: str
    path: str
    from_parameter: str
    to_parameter: str
    time_format: str  # strftime pattern for the from/to parameters (UTC)
    window_span: timedelta
    policy: RatePolicy

    def search_url(self, base_url: str | None) -> str:
        return (base_url or self.default_base_url).rstrip("/") + self.path

    def window_parameters(self, window: Window, stages: str | None) -> dict[str, str]:
        parameters = {
            self.from_parameter: window.start.strftime(self.time_format),
            self.to_parameter: window.end.strftime(self.time_format),
            "limit": str(PAGE_SIZE),
        }
        if stages:
            parameters["stages"] = stages
        return parameters


@dataclass(frozen=True)
class RunPlan:
    start: datetime
    end: datetime
    windows: list[Window]
    resumed: bool


def plan_run(
    source: ApiSource,
    state: FetchState,
    start: datetime | None,
    end: datetime | None,
    stages: str | None,
    now: datetime,
) -> RunPlan | None:
    """Decide what this run covers; None means there is nothing new to fetch.

    - An interrupted run is resumed when this run asks for the same thing (or gives no
      `start`).
    - Without `start`, a run continues from the end of the last completed range.
    - `end` defaults to now and is never later than now, so the next incremental run
      starts exactly where this one's data stops.
    """
    if state.status == "running" and state.requested_from and state.requested_to:
        same_start = start is None or iso(start) == state.requested_from
        same_end = end is None or iso(min(end, now)) == state.requested_to
        if same_start and same_end and (stages or None) == state.stages:
            first = parse_moment(state.requested_from)
            last = parse_moment(state.requested_to)
            return RunPlan(first, last, split_windows(first, last, source.window_span), True)

    if start is None:
        if not state.last_completed_to:
            raise FetchError(
                f"no earlier {source.title} run to continue from; give a start date (--from)"
            )
        start = parse_moment(state.last_completed_to)
        explicit = False
    else:
        explicit = True
        if start >= now:
            raise FetchError(f"the start {iso(start)} is in the future")
    if explicit and end is not None and end <= start:
        raise FetchError(f"the end {iso(end)} is not after the start {iso(start)}")
    end = now if end is None else min(end, now)
    if end <= start:
        if explicit:
            raise FetchError(f"the end {iso(end)} is not after the start {iso(start)}")
        return None
    return RunPlan(start, end, split_windows(start, end, source.window_span), False)


def fetch_api(
    source: ApiSource,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    raw_dir: Path | None = None,
    base_url: str | None = None,
    stages: str | None = None,
    clock: Clock | None = None,
    policy: RatePolicy | None = None,
    http: httpx.Client | None = None,
    reporter: FetchReporter | None = None,
) -> FetchSummary:
    """Fetch [start, end) from `source` into the raw store; see the module docstring."""
    store = RawStore(raw_dir or default_raw_dir(), source.name)
    with store.holding():
        return _fetch_api(
            source, start, end, store, base_url, stages, clock, policy, http, reporter
        )


def _fetch_api(
    source: ApiSource,
    start: datetime | None,
    end: datetime | None,
    store: RawStore,
    base_url: str | None,
    stages: str | None,
    clock: Clock | None,
    policy: RatePolicy | None,
    http: httpx.Client | None,
    reporter: FetchReporter | None,
) -> FetchSummary:
    clock = clock or SystemClock()
    reporter = reporter or FetchReporter()
    summary = FetchSummary(source=source.name, state_path=store.state_path)
    state = store.load_state()

    plan = plan_run(source, state, start, end, stages, clock.utcnow())
    if plan is None:
        summary.up_to_date = True
        summary.requested_from = summary.requested_to = state.last_completed_to
        summary.note = f"nothing new since {state.last_completed_to}"
        return summary

    if not plan.resumed:
        state = FetchState(
            source=source.name,
            status="running",
            base_url=base_url,
            stages=stages or None,
            requested_from=iso(plan.start),
            requested_to=iso(plan.end),
            last_completed_to=state.last_completed_to,
        )
        store.save_state(state)
    summary.resumed = plan.resumed
    summary.requested_from = state.requested_from
    summary.requested_to = state.requested_to
    summary.windows_total = len(plan.windows)

    client = PoliteClient(policy or source.policy, clock=clock, http=http, on_wait=reporter.waiting)
    url = source.search_url(base_url)
    done = {tuple(window) for window in state.windows_done}
    reporter.run_started(source.name, len(plan.windows), len(done))
    try:
        for window in plan.windows:
            if tuple(window.as_json()) in done:
                summary.windows_skipped += 1
                summary.paths.extend(store.pages(window))
                continue
            _fetch_window(source, window, url, stages, state, store, client, reporter, summary)
            summary.windows_fetched += 1
            summary.paths.extend(store.pages(window))
    finally:
        summary.rate_limit_waits = client.rate_limit_waits
        summary.rate_limit_seconds = client.rate_limit_seconds
        summary.retries = client.retries
        if http is None:
            client.close()

    state.status = "complete"
    state.current_window = None
    state.page = 1
    state.cursor = state.next_url = None
    # Same format throughout (iso()), so the text order is the time order.
    if (state.requested_to or "") > (state.last_completed_to or ""):
        state.last_completed_to = state.requested_to
    store.save_state(state)
    return summary


def _fetch_window(
    source: ApiSource,
    window: Window,
    url: str,
    stages: str | None,
    state: FetchState,
    store: RawStore,
    client: PoliteClient,
    reporter: FetchReporter,
    summary: FetchSummary,
) -> None:
    if state.current_window != window.as_json():
        # A fresh start on this window: drop pages an earlier run may have left behind.
        store.clear_window(window)
        state.current_window = window.as_json()
        state.page = 1
        state.cursor = state.next_url = None
        store.save_state(state)
    reporter.window_started(window, state.page)

    while True:
        number = state.page
        path = store.page_path(window, number)
        if path.exists():
            # Written before an interruption, but the state had not yet moved on.
            content = path.read_bytes()
            fetched = False
            summary.pages_reused += 1
        else:
            if state.next_url:
                response = client.get(state.next_url)
            else:
                parameters = source.window_parameters(window, stages)
                if state.cursor:
                    parameters["cursor"] = state.cursor
                response = client.get(url, parameters)
            received = response.content
            content, _ = as_utf8(received, response.headers.get("content-type"))
            if content is not received:
                summary.pages_transcoded += 1
            store.write_page(window, number, content)
            fetched = True
            summary.pages_fetched += 1

        info = inspect_page(content)
        summary.releases += info.releases
        if not info.valid_json:
            summary.pages_not_json += 1

        next_cursor = next_url = None
        if info.releases > 0 and info.next_url:
            next_cursor = cursor_of(info.next_url)
            if next_cursor is None:
                next_url = info.next_url
            # A next link that points back at this page would loop for ever.
            if (next_cursor is not None and next_cursor == state.cursor) or (
                next_url is not None and next_url == state.next_url
            ):
                next_cursor = next_url = None

        if next_cursor or next_url:
            state.page = number + 1
            state.cursor = next_cursor
            state.next_url = next_url
            store.save_state(state)
            reporter.page_saved(window, number, info.releases, fetched)
            continue

        state.windows_done.append(window.as_json())
        state.current_window = None
        state.page = 1
        state.cursor = state.next_url = None
        store.save_state(state)
        reporter.page_saved(window, number, info.releases, fetched)
        reporter.window_finished(window)
        return
