"""The raw store: every fetched page on disk, written atomically, plus a resumable state file.

Layout::

    {raw_dir}/{source}/state.json
    {raw_dir}/{source}/.lock                     held by the running fetch of the source
    {raw_dir}/{source}/{window-start}_{window-end}/page-00001.json
    {raw_dir}/bulk/{file name}

`raw_dir` defaults to `var/raw/`; the environment variable MUTUALISE_RAW_DIR overrides it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import FetchBusy
from .windows import Window

RAW_DIR_VARIABLE = "MUTUALISE_RAW_DIR"
STATE_FILE = "state.json"


def default_raw_dir() -> Path:
    configured = os.environ.get(RAW_DIR_VARIABLE)
    return Path(configured) if configured else Path("var") / "raw"


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@dataclass
class FetchState:
    """Where a source's fetch stands. Saved after every page."""

    source: str
    status: str = "idle"  # idle | running | complete
    base_url: str | None = None
    stages: str | None = None
    requested_from: str | None = None
    requested_to: str | None = None
    windows_done: list[list[str]] = field(default_factory=list)
    # The window being fetched, the page number to fetch next within it, and how to ask
    # for that page (the cursor from the previous page's links.next, or the whole link
    # when it carries no cursor).
    current_window: list[str] | None = None
    page: int = 1
    cursor: str | None = None
    next_url: str | None = None
    # The end of the latest completed range: where an incremental run starts.
    last_completed_to: str | None = None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FetchState:
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


class RawStore:
    def __init__(self, raw_dir: Path, source: str) -> None:
        self.raw_dir = Path(raw_dir)
        self.source = source
        self.source_dir = self.raw_dir / source
        self.state_path = self.source_dir / STATE_FILE

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Hold the source's fetch lock: one fetch of a source at a time (two would both write
        its state). Under it, delete the temporary files a killed fetch left half-written:
        they cannot belong to a running fetch."""
        self.source_dir.mkdir(parents=True, exist_ok=True)
        with (self.source_dir / ".lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FetchBusy(
                    f"another fetch of {self.source} is running (raw store {self.source_dir}); "
                    "run this again when it has finished"
                ) from None
            try:
                for leftover in self.source_dir.rglob(".*.tmp"):
                    leftover.unlink(missing_ok=True)
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def load_state(self) -> FetchState:
        if not self.state_path.exists():
            return FetchState(source=self.source)
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"unreadable state file {self.state_path}: {exc}") from exc
        return FetchState.from_json(data)

    def save_state(self, state: FetchState) -> None:
        atomic_write(self.state_path, state.to_json())

    def window_dir(self, window: Window) -> Path:
        return self.source_dir / window.name

    def page_path(self, window: Window, number: int) -> Path:
        return self.window_dir(window) / f"page-{number:05d}.json"

    def write_page(self, window: Window, number: int, content: bytes) -> Path:
        path = self.page_path(window, number)
        atomic_write(path, content)
        return path

    def pages(self, window: Window) -> list[Path]:
        directory = self.window_dir(window)
        if not directory.is_dir():
            return []
        return sorted(directory.glob("page-*.json"))

    def clear_window(self, window: Window) -> None:
        """Forget pages left by an earlier fetch of the same window (before fetching anew)."""
        for path in self.pages(window):
            path.unlink()
