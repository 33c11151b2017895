"""`mutualise fetch ...`: fetch open procurement data into the raw store, then ingest it.

The root CLI calls `register(app)`. Every failure ends with one line on stderr and a
non-zero exit status (2 for bad input, 1 for a failed fetch or ingest, 130 when
interrupted), never a traceback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from .api import ApiSource
from .bulk import SOURCE as BULK_SOURCE
from .bulk import fetch_bulk, is_url
from .clock import Clock, SystemClock
from .contracts_finder import CONTRACTS_FINDER, fetch_contracts_finder
from .errors import FetchError
from .find_a_tender import FIND_A_TENDER, fetch_find_a_tender
from .handoff import IngestUnavailable, hand_to_ingest
from .report import FetchReporter, FetchSummary
from .store import RAW_DIR_VARIABLE, default_raw_dir
from .windows import Window, parse_moment

# Seams for tests: the CLI builds its clock and HTTP client through these.
make_clock: Callable[[], Clock] = SystemClock
make_http: Callable[[], httpx.Client | None] = lambda: None  # noqa: E731

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Start: YYYY-MM-DD or an ISO date-time (UTC unless an offset is given). "
        "Leave out to fetch what is new since the last completed run.",
        show_default=False,
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="End (exclusive); a bare date includes that whole day. Defaults to now.",
        show_default=False,
    ),
]
BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", help="Service root URL (defaults to the live service).")
]
StagesOption = Annotated[
    str | None,
    typer.Option("--stages", help="Comma-separated stages, e.g. tender,award (default: all)."),
]
RawDirOption = Annotated[
    Path | None,
    typer.Option(
        "--raw-dir",
        envvar=RAW_DIR_VARIABLE,
        help="Where raw pages are stored (default var/raw/).",
        show_default=False,
    ),
]
NoIngestOption = Annotated[
    bool, typer.Option("--no-ingest", help="Only fetch; do not run the ingest afterwards.")
]
WarehouseOption = Annotated[
    Path | None,
    typer.Option("--warehouse-dir", help="Where the ingest writes (its default if not given)."),
]


def register(app: typer.Typer) -> None:
    """Add the `fetch` command group to the root CLI."""
    fetch_app = typer.Typer(
        help="Fetch UK open procurement data (OCDS) into the raw store, then ingest it.",
        no_args_is_help=True,
    )
    fetch_app.command("contracts-finder")(contracts_finder)
    fetch_app.command("find-a-tender")(find_a_tender)
    fetch_app.command("bulk")(bulk)
    app.add_typer(fetch_app, name="fetch")


def contracts_finder(
    start: FromOption = None,
    end: ToOption = None,
    base_url: BaseUrlOption = None,
    stages: StagesOption = None,
    raw_dir: RawDirOption = None,
    no_ingest: NoIngestOption = False,
    warehouse_dir: WarehouseOption = None,
) -> None:
    """Fetch Contracts Finder notices (published in a date range) as OCDS release packages."""
    _run_api(
        CONTRACTS_FINDER,
        fetch_contracts_finder,
        start,
        end,
        base_url,
        stages,
        raw_dir,
        no_ingest,
        warehouse_dir,
    )


def find_a_tender(
    start: FromOption = None,
    end: ToOption = None,
    base_url: BaseUrlOption = None,
    stages: StagesOption = None,
    raw_dir: RawDirOption = None,
    no_ingest: NoIngestOption = False,
    warehouse_dir: WarehouseOption = None,
) -> None:
    """Fetch Find a Tender notices (updated in a date range), in windows of 6 hours."""
    _run_api(
        FIND_A_TENDER,
        fetch_find_a_tender,
        start,
        end,
        base_url,
        stages,
        raw_dir,
        no_ingest,
        warehouse_dir,
    )


def bulk(
    file_or_url: Annotated[
        str, typer.Argument(help="A local .jsonl/.jsonl.gz/.zip file, or an http(s) URL.")
    ],
    raw_dir: RawDirOption = None,
    no_ingest: NoIngestOption = False,
    warehouse_dir: WarehouseOption = None,
) -> None:
    """Load a data-registry bulk file (JSON Lines of compiled releases); URLs resume."""
    console = Console(stderr=True)
    if is_url(file_or_url):
        _check_url(file_or_url, "FILE_OR_URL")
    reporter = RichReporter(console, "bulk")
    try:
        with reporter:
            summary = fetch_bulk(
                file_or_url,
                raw_dir=raw_dir or default_raw_dir(),
                clock=make_clock(),
                http=make_http(),
                reporter=reporter,
            )
    except FetchError as exc:
        _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted; run the same command again to resume the download", EXIT_INTERRUPTED)
    except OSError as exc:
        _fail(f"could not write the download: {exc}", EXIT_FAILED)

    out = Console()
    out.print(f"[bold]Bulk file[/bold]: {summary.paths[0]}")
    if summary.note:
        out.print(f"  {summary.note}")
    if summary.bytes_downloaded:
        resumed = " (resumed)" if summary.resumed else ""
        out.print(f"  downloaded {summary.bytes_downloaded:,} bytes{resumed}")
    _ingest(summary, BULK_SOURCE, no_ingest, warehouse_dir, out)


def _run_api(
    source: ApiSource,
    fetch: Callable[..., FetchSummary],
    start_text: str | None,
    end_text: str | None,
    base_url: str | None,
    stages: str | None,
    raw_dir: Path | None,
    no_ingest: bool,
    warehouse_dir: Path | None,
) -> None:
    start = _parse_date(start_text, "--from", end_of_day=False)
    end = _parse_date(end_text, "--to", end_of_day=True)
    if start is not None and end is not None and end <= start:
        _fail(f"--to ({end_text}) must be after --from ({start_text})", EXIT_BAD_INPUT)
    if base_url is not None:
        _check_url(base_url, "--base-url")

    console = Console(stderr=True)
    reporter = RichReporter(console, source.title)
    try:
        with reporter:
            summary = fetch(
                start,
                end,
                raw_dir=raw_dir or default_raw_dir(),
                base_url=base_url,
                stages=stages,
                clock=make_clock(),
                http=make_http(),
                reporter=reporter,
            )
    except FetchError as exc:
        _fail(f"{source.title}: {exc}", EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted; run the same command again to resume", EXIT_INTERRUPTED)
    except (OSError, ValueError) as exc:
        _fail(f"{source.title}: {exc}", EXIT_FAILED)

    out = Console()
    _print_summary(source, summary, out)
    if summary.up_to_date:
        return
    _ingest(summary, source.name, no_ingest, warehouse_dir, out)


def _print_summary(source: ApiSource, summary: FetchSummary, out: Console) -> None:
    if summary.up_to_date:
        out.print(f"[bold]{source.title}[/bold]: up to date ({summary.note})")
        return
    resumed = " (resumed an interrupted run)" if summary.resumed else ""
    out.print(
        f"[bold]{source.title}[/bold]: {summary.requested_from} to {summary.requested_to}{resumed}"
    )
    out.print(
        f"  windows: {summary.windows_total} ({summary.windows_fetched} fetched, "
        f"{summary.windows_skipped} already done)"
    )
    out.print(
        f"  pages: {summary.pages_fetched} fetched, {summary.pages_reused} reused from disk; "
        f"releases: {summary.releases}"
    )
    if summary.pages_not_json or summary.pages_transcoded:
        out.print(
            f"  pages stored that strict JSON parsers reject: {summary.pages_not_json}; "
            f"pages transcoded to UTF-8: {summary.pages_transcoded}"
        )
    out.print(
        f"  rate-limit waits: {summary.rate_limit_waits} ({summary.rate_limit_seconds:.0f} s); "
        f"retries: {summary.retries}"
    )
    if summary.state_path is not None:
        out.print(f"  raw pages: {summary.state_path.parent}")


def _ingest(
    summary: FetchSummary,
    source: str,
    no_ingest: bool,
    warehouse_dir: Path | None,
    out: Console,
) -> None:
    if no_ingest:
        out.print("  ingest: skipped (--no-ingest)")
        return
    if not summary.paths:
        out.print("  ingest: nothing to ingest")
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]ingest"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        console=Console(stderr=True),
    )
    task = progress.add_task("ingest", total=len(summary.paths), detail="")

    def show(state: Any) -> None:
        # The ingest reports its running summary; read it defensively.
        progress.update(
            task,
            completed=getattr(state, "files_read", 0),
            total=getattr(state, "files_total", None) or len(summary.paths),
            detail=f"releases {getattr(state, 'releases_read', 0)}",
        )

    try:
        with progress:
            result = hand_to_ingest(
                summary.paths, source, warehouse_dir=warehouse_dir, progress=show
            )
    except IngestUnavailable as exc:
        out.print(f"  ingest: not run: {exc}; the raw files are kept")
        return
    except Exception as exc:
        _fail(f"ingest failed: {type(exc).__name__}: {exc} (raw files kept)", EXIT_FAILED)
    out.print(f"  ingest: {describe_result(result)}")


def describe_result(result: Any) -> str:
    """The counts in the ingest's summary (a dataclass), else its text."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        counts = [
            f"{item.name.replace('_', ' ')} {getattr(result, item.name)}"
            for item in dataclasses.fields(result)
            if type(getattr(result, item.name)) is int
        ]
        if counts:
            return ", ".join(counts)
    return str(result)


def _parse_date(text: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_moment(text, end_of_day=end_of_day)
    except ValueError as exc:
        _fail(f"{option}: {exc}", EXIT_BAD_INPUT)


def _check_url(value: str, option: str) -> None:
    if not is_url(value):
        _fail(f"{option}: not an http(s) URL: {value}", EXIT_BAD_INPUT)
    try:
        parsed = httpx.URL(value)
    except httpx.InvalidURL as exc:
        _fail(f"{option}: not a valid URL: {value} ({exc})", EXIT_BAD_INPUT)
    if not parsed.host:
        _fail(f"{option}: the URL has no host: {value}", EXIT_BAD_INPUT)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


class RichReporter(FetchReporter):
    """Draws a fetch's progress: pages, releases, current window, rate-limit waits."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None
        self.pages = 0
        self.releases = 0
        self.window: Window | None = None

    def __enter__(self) -> RichReporter:
        self.progress.start()
        self.task = self.progress.add_task(self.title, total=None, detail="starting")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def _update(self, **changes: Any) -> None:
        if self.task is not None:
            self.progress.update(self.task, **changes)

    def _detail(self, status: str = "") -> str:
        window = ""
        if self.window is not None:
            window = f" | window {self.window.start:%Y-%m-%d %H:%M}–{self.window.end:%H:%M}"
        extra = f" | {status}" if status else ""
        return f"pages {self.pages} | releases {self.releases}{window}{extra}"

    def run_started(self, source: str, windows_total: int, windows_done: int) -> None:
        self._update(total=windows_total, completed=windows_done, detail=self._detail())

    def window_started(self, window: Window, resumed_at_page: int) -> None:
        self.window = window
        status = f"resuming at page {resumed_at_page}" if resumed_at_page > 1 else ""
        self._update(detail=self._detail(status))

    def page_saved(self, window: Window, number: int, releases: int, fetched: bool) -> None:
        self.pages += 1
        self.releases += releases
        self._update(detail=self._detail())

    def window_finished(self, window: Window) -> None:
        if self.task is not None:
            self.progress.advance(self.task)

    def waiting(self, seconds: float, reason: str) -> None:
        self._update(detail=self._detail(f"[yellow]waiting {seconds:.0f} s: {reason}[/yellow]"))

    def download_progress(self, received: int, total: int | None) -> None:
        self._update(
            total=total, completed=received, detail=f"{received:,} bytes" if received else ""
        )
