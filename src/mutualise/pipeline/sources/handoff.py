"""Handing raw files to the ingest (`mutualise.pipeline.ingest`), imported only when used."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import FetchError


class IngestUnavailable(FetchError):
    """The ingest step could not be imported (not installed or not written yet)."""


def hand_to_ingest(
    paths: Sequence[Path],
    source: str,
    *,
    warehouse_dir: Path | None = None,
    progress: Any = None,
) -> Any:
    """Run the ingest over `paths` and return its summary."""
    try:
        from mutualise.pipeline.ingest import ingest  # imported lazily, on purpose
    except ImportError as exc:
        raise IngestUnavailable(f"the ingest step is not available ({exc})") from exc
    return ingest(list(paths), warehouse_dir=warehouse_dir, source=source, progress=progress)
