"""Progress events a fetch emits, and the summary it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .windows import Window


class FetchReporter:
    """Receives progress events. The base class ignores them; the CLI draws them."""

    def run_started(self, source: str, windows_total: int, windows_done: int) -> None:
        pass

    def window_started(self, window: Window, resumed_at_page: int) -> None:
        pass

    def page_saved(self, window: Window, number: int, releases: int, fetched: bool) -> None:
        pass

    def window_finished(self, window: Window) -> None:
        pass

    def waiting(self, seconds: float, reason: str) -> None:
        pass

    def download_progress(self, received: int, total: int | None) -> None:
        pass


@dataclass
class FetchSummary:
    source: str
    requested_from: str | None = None
    requested_to: str | None = None
    resumed: bool = False
    up_to_date: bool = False
    windows_total: int = 0
    windows_fetched: int = 0
    windows_skipped: int = 0
    pages_fetched: int = 0  # pages requested over HTTP in this run
    pages_reused: int = 0  # pages found already on disk when resuming
    releases: int = 0
    pages_not_json: int = 0  # stored, but no strict or standard JSON parser reads them
    pages_transcoded: int = 0  # stored as UTF-8 after decoding another charset
    rate_limit_waits: int = 0
    rate_limit_seconds: float = 0.0
    retries: int = 0
    bytes_downloaded: int = 0
    paths: list[Path] = field(default_factory=list)  # every raw file this run covers
    state_path: Path | None = None
    note: str = ""
