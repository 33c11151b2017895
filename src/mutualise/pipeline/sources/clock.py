"""Time and sleeping, injectable so tests never really wait."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for spacing requests)."""
        ...

    def sleep(self, seconds: float) -> None: ...

    def utcnow(self) -> datetime:
        """The current wall-clock time, timezone-aware UTC."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def utcnow(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock for tests: sleeping advances time instantly and is recorded."""

    def __init__(self, start: datetime | None = None) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []
        self.start = start or datetime(2025, 3, 1, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.elapsed += seconds

    def utcnow(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)
