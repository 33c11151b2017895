"""Parsing OCDS dates into timezone-aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Dates outside this range are publishing errors ("unrealistic dates" in DOMAIN.md §6).
EARLIEST_YEAR = 1990
LATEST_YEAR = 2100


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 date-time (or date) as a UTC datetime; None if missing, invalid or impossible."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # OCDS dates should carry an offset; assume UTC if not
    return parsed.astimezone(UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(value: datetime | None) -> int | None:
    """A UTC datetime as microseconds since the epoch: what Arrow stores in a UTC timestamp.

    Arrow converts integers straight into timestamps, while converting timezone-aware datetimes
    makes pyarrow import pandas (seconds per process) and is slower per value.
    """
    return None if value is None else (value - EPOCH) // _MICROSECOND


def parse_micros(value: object) -> int | None:
    """`parse_datetime` as microseconds since the epoch (None if missing, invalid or impossible)."""
    return to_micros(parse_datetime(value))
