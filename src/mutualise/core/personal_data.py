"""Subject access and erasure requests (UK GDPR articles 15 and 17), keeping the audit chain valid,
and the retention policy applied (UK GDPR Article 5(1)(e); rules/personal_data_retention.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from mutualise.core import audit, two_factor
from mutualise.core.models import AuditEvent, Notification, RetentionRun, User
from mutualise.core.retention import Category, load_policy


class PersonalDataError(ValueError):
    pass


def find_user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise PersonalDataError(f"no user has the username {username!r}")
    return user


def export(user: User) -> dict[str, Any]:
    """Everything held about a person: account, roles, emails, and rows that point at them."""
    data: dict[str, Any] = {
        "account": {
            "username": user.username,
            "full_name": user.full_name,
            "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "email_opt_out": user.email_opt_out,
        },
        "roles": [
            {"role": a.role, "organisation": str(a.organisation) if a.organisation else None}
            for a in user.role_assignments.select_related("organisation")
        ],
        "notifications": [
            {
                "subject": n.subject,
                "created_at": n.created_at.isoformat(),
                "sent_at": n.sent_at.isoformat() if n.sent_at else None,
            }
            for n in user.notifications.all()
        ],
        "actions_in_audit_log": [
            {"at": e.at.isoformat(), "action": e.action, "object": e.object_label}
            for e in AuditEvent.objects.filter(actor=user).order_by("at")
        ],
        "records": _linked_records(user),
    }
    return data


def _linked_records(user: User) -> dict[str, list[dict[str, Any]]]:
    """Rows in any app whose foreign key points at the user (applications, engagements, …)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for model in apps.get_models():
        if model in {User, AuditEvent, Notification} or model._meta.app_label in {"auth", "admin"}:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is User:
                rows = model._default_manager.filter(**{field.name: user})
                for row in rows[:10_000]:
                    found.setdefault(model._meta.label, []).append(
                        {"id": row.pk, "as": field.name, "record": str(row)}
                    )
    return found


def erase(user: User, *, actor: User | None = None) -> None:
    """Anonymise the person; keep the rows others rely on (decisions, payments, audit)."""
    if user.is_superuser:
        raise PersonalDataError("erase a superuser only after removing superuser status")
    with transaction.atomic():
        pseudonym = f"{ERASED_PREFIX}{user.pk}"
        user.username = pseudonym
        user.full_name = ""
        user.first_name = ""
        user.last_name = ""
        user.email = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        user.notifications.all().delete()
        two_factor.remove_for_erasure(user)
        # actor_label is outside the hash (see AuditEvent.hash_payload), so blanking it keeps the
        # chain intact; QuerySet.update is refused on the audit log, hence raw SQL here.
        table = AuditEvent._meta.db_table
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET actor_label = %s WHERE actor_id = %s",  # noqa: S608
                [pseudonym, user.pk],
            )
        audit.record(
            actor=actor, action="personal_data.erased", obj=user, after={"user_id": user.pk}
        )


# --- the retention policy, applied ------------------------------------------------------------


@dataclass
class PurgeResult:
    """What one category's purge did (or, in a dry run, would do)."""

    code: str
    name: str
    at_end: str
    cutoff: datetime
    count: int
    what: str


@dataclass
class PurgeSummary:
    dry_run: bool
    policy_version: str
    at: datetime
    results: list[PurgeResult] = dataclass_field(default_factory=list)
    run_id: int | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {result.code: result.count for result in self.results}


def purge(
    *, dry_run: bool = False, now: datetime | None = None, actor: User | None = None
) -> PurgeSummary:
    """Apply every category of the retention policy that has a purge handler.

    Data older than the category's period (measured back from ``now``) is deleted, anonymised or
    its text erased, as the policy says. A dry run changes nothing and counts what would go.
    Each run is recorded (RetentionRun) with an audit event; anonymised accounts and deleted
    documents get their own audit events too. Files are removed only after the commit.
    """
    policy = load_policy()
    now = now or timezone.now()
    summary = PurgeSummary(dry_run=dry_run, policy_version=policy.version, at=now)
    with transaction.atomic():
        for category in policy.purged:
            assert category.period_days is not None  # parse_policy checks this
            cutoff = now - timedelta(days=category.period_days)
            handler = _PURGE_HANDLERS[category.purge]
            count, what = handler(category, cutoff, dry_run, actor)
            summary.results.append(
                PurgeResult(category.code, category.name, category.at_end, cutoff, count, what)
            )
        if not dry_run:
            run = RetentionRun.objects.create(
                at=now, policy_version=policy.version, summary=summary.counts
            )
            summary.run_id = run.pk
            audit.record(
                actor=actor,
                action="personal_data.purged",
                obj=run,
                after={"policy_version": policy.version, "counts": summary.counts},
            )
    return summary


def _purge_sessions(
    category: Category, cutoff: datetime, dry_run: bool, actor: User | None
) -> tuple[int, str]:
    from django.contrib.sessions.models import Session

    expired = Session.objects.filter(expire_date__lt=cutoff)
    count = expired.count()
    if not dry_run and count:
        expired.delete()
    return count, "expired sessions"


def _purge_sign_in_attempts(
    category: Category, cutoff: datetime, dry_run: bool, actor: User | None
) -> tuple[int, str]:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    count = 0
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        old = model.objects.filter(attempt_time__lt=cutoff)
        found = old.count()
        if not dry_run and found:
            old.delete()
        count += found
    return count, "sign-in attempt records"


def _purge_notifications(
    category: Category, cutoff: datetime, dry_run: bool, actor: User | None
) -> tuple[int, str]:
    old = Notification.objects.filter(created_at__lt=cutoff)
    count = old.count()
    if not dry_run and count:
        old.delete()
    return count, "emails"


def _purge_inactive_accounts(
    category: Category, cutoff: datetime, dry_run: bool, actor: User | None
) -> tuple[int, str]:
    """People who hold no role and have not signed in (or, never having signed in, joined)
    since the cut-off. Superusers and accounts already anonymised are left alone."""
    inactive = (
        User.objects.filter(is_superuser=False, role_assignments__isnull=True)
        .exclude(username__startswith=ERASED_PREFIX)
        .annotate(last_seen=Coalesce("last_login", "date_joined"))
        .filter(last_seen__lt=cutoff)
        .order_by("pk")
    )
    users = list(inactive)
    if not dry_run:
        for user in users:
            erase(user, actor=actor)
    return len(users), "accounts anonymised"


def _purge_closed_application_attachments(
    category: Category, cutoff: datetime, dry_run: bool, actor: User | None
) -> tuple[int, str]:
    """Documents of applications withdrawn or turned down (the statuses the policy names)
    before the cut-off. A withdrawal sets updated_at; a decision sets decided_at."""
    from mutualise.fund.models import Attachment

    old = (
        Attachment.objects.filter(application__status__in=category.application_statuses)
        .annotate(closed_at=Coalesce("application__decided_at", "application__updated_at"))
        .filter(closed_at__lt=cutoff)
        .select_related("application", "application__organisation")
        .order_by("application_id", "pk")
    )
    attachments = list(old)
    if dry_run:
        return len(attachments), "documents"
    by_application: dict[int, list[Any]] = {}
    for attachment in attachments:
        by_application.setdefault(attachment.application_id, []).append(attachment)
    for group in by_application.values():
        application = group[0].application
        names = [a.file.name for a in group if a.file]
        audit.record(
            actor=actor,
            action="personal_data.documents_deleted",
            obj=application,
            organisation=application.organisation,
            before={"documents": [a.original_name for a in group]},
            after={"status": application.status, "policy": category.code},
        )
        Attachment.objects.filter(pk__in=[a.pk for a in group]).delete()
        storage = group[0].file.storage
        transaction.on_commit(partial(_delete_files, storage, names))
    return len(attachments), "documents"


def _delete_files(storage: Any, names: list[str]) -> None:
    for name in names:
        storage.delete(name)


def _purge_engagement_notes(
    category: Category, cutoff: datetime, dry_run: bool, actor: User | None
) -> tuple[int, str]:
    from mutualise.ambassadors.models import Engagement

    old = Engagement.objects.filter(match__ended_at__lt=cutoff).exclude(notes="")
    count = old.count()
    if not dry_run and count:
        old.update(notes="")
    return count, "meeting notes erased"


ERASED_PREFIX = "erased-user-"
_PURGE_HANDLERS = {
    "sessions": _purge_sessions,
    "sign_in_attempts": _purge_sign_in_attempts,
    "notifications": _purge_notifications,
    "inactive_accounts": _purge_inactive_accounts,
    "closed_application_attachments": _purge_closed_application_attachments,
    "engagement_notes": _purge_engagement_notes,
}
