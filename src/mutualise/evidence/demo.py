"""Demo data for the evidence app: a data snapshot of whatever the other apps have seeded."""

from __future__ import annotations

from typing import Any


def seed_demo(programme: dict[str, Any], seed: int) -> None:
    """Idempotent: the snapshot id is a content hash, so a second run reuses the same snapshot."""
    from mutualise.evidence.services import refresh_snapshot

    refresh_snapshot()
