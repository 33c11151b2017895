"""Write and verify the append-only, hash-chained audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from mutualise.core.models import AuditChainHead, AuditEvent, User

GENESIS = "0" * 64


def record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    organisation: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call inside the transaction that made the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction that made the change")
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event = AuditEvent(
        at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.display_name if actor is not None and actor.pk else "system",
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        object_label=str(obj)[:300],
        organisation=organisation,
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        previous_hash=head.last_hash,
    )
    event.entry_hash = event.compute_hash()
    event.save()
    AuditChainHead.objects.filter(pk=1).update(last_hash=event.entry_hash)
    return event


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return {"id": value.pk, "label": str(value)}
    return str(value)


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    reason: str


def verify_chain() -> list[ChainProblem]:
    """Walk the log in order; report edits (hash mismatch) and deletions (broken links)."""
    problems: list[ChainProblem] = []
    expected_previous = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator():
        if event.previous_hash != expected_previous:
            problems.append(
                ChainProblem(event.id, "an entry before this one was deleted or reordered")
            )
        if event.compute_hash() != event.entry_hash:
            problems.append(ChainProblem(event.id, "this entry was edited after it was written"))
        expected_previous = event.entry_hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != expected_previous:
        problems.append(ChainProblem(None, "the newest entries were deleted"))
    return problems
