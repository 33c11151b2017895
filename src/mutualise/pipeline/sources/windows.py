"""Query windows: splitting a requested time range into pieces the APIs accept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True, order=True)
class Window:
    """A half-open time range [start, end), both timezone-aware UTC."""

    start: datetime
    end: datetime

    @property
    def name(self) -> str:
        """The directory name of this window in the raw store."""
        return f"{compact(self.start)}_{compact(self.end)}"

    def as_json(self) -> list[str]:
        return [iso(self.start), iso(self.end)]

    @classmethod
    def from_json(cls, value: list[str]) -> Window:
        return cls(parse_moment(value[0]), parse_moment(value[1]))


def split_windows(start: datetime, end: datetime, span: timedelta) -> list[Window]:
    """Split [start, end) into consecutive windows of at most `span` each."""
    if span <= timedelta(0):
        raise ValueError("window span must be positive")
    windows = []
    cursor = start
    while cursor < end:
        window_end = min(cursor + span, end)
        windows.append(Window(cursor, window_end))
        cursor = window_end
    return windows


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second: 2025-01-20T23:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact(moment: datetime) -> str:
    """A filename-safe UTC timestamp: 20250120T230000Z."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime:
    """Parse a date or an ISO 8601 date-time into timezone-aware UTC.

    A bare date means the start of that day (UTC), or the start of the next day when
    `end_of_day` is true (so `--to 2025-01-31` includes all of 31 January). A date-time
    without an offset is taken as UTC. Raises ValueError with a readable message.
    """
    value = text.strip()
    if not value:
        raise ValueError("empty date")
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return moment + timedelta(days=1) if end_of_day else moment
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a date: {text!r} (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
