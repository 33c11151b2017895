"""Fetchers of UK open procurement data into the raw store (no Django here).

- `fetch_contracts_finder` and `fetch_find_a_tender`: cursor-paged OCDS APIs, fetched in
  query windows, one polite request at a time, resumable and incremental.
- `fetch_bulk`: data-registry bulk files, local or downloaded with resume.
- `hand_to_ingest`: pass the raw files on to `mutualise.pipeline.ingest`.
"""

from .bulk import fetch_bulk
from .client import PoliteClient, RatePolicy
from .clock import Clock, FakeClock, SystemClock
from .contracts_finder import CONTRACTS_FINDER, fetch_contracts_finder
from .errors import FetchError, NetworkError, PermanentHttpError, RateLimitExhausted
from .find_a_tender import FIND_A_TENDER, fetch_find_a_tender
from .handoff import IngestUnavailable, hand_to_ingest
from .report import FetchReporter, FetchSummary
from .store import FetchState, RawStore, default_raw_dir
from .windows import Window, parse_moment, split_windows

__all__ = [
    "CONTRACTS_FINDER",
    "FIND_A_TENDER",
    "Clock",
    "FakeClock",
    "FetchError",
    "FetchReporter",
    "FetchState",
    "FetchSummary",
    "IngestUnavailable",
    "NetworkError",
    "PermanentHttpError",
    "PoliteClient",
    "RateLimitExhausted",
    "RatePolicy",
    "RawStore",
    "SystemClock",
    "Window",
    "default_raw_dir",
    "fetch_bulk",
    "fetch_contracts_finder",
    "fetch_find_a_tender",
    "hand_to_ingest",
    "parse_moment",
    "split_windows",
]
