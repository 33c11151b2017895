"""Subject access and erasure requests (UK GDPR articles 15 and 17), keeping the audit chain valid."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models, transaction

from mutualise.core import audit
from mutualise.core.models import AuditEvent, Notification, User


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
            "username": user.username, "full_name": user.full_name, "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "email_opt_out": user.email_opt_out,
        },
        "roles": [
            {"role": a.role, "organisation": str(a.organisation) if a.organisation else None}
            for a in user.role_assignments.select_related("organisation")
        ],
        "notifications": [
            {"subject": n.subject, "created_at": n.created_at.isoformat(),
             "sent_at": n.sent_at.isoformat() if n.sent_at else None}
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
        pseudonym = f"erased-user-{user.pk}"
        user.username = pseudonym
        user.full_name = ""
        user.first_name = ""
        user.last_name = ""
        user.email = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        user.notifications.all().delete()
        # actor_label is outside the hash (see AuditEvent.hash_payload), so blanking it keeps the
        # chain intact; QuerySet.update is refused on the audit log, hence raw SQL here.
        table = AuditEvent._meta.db_table
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET actor_label = %s WHERE actor_id = %s",  # noqa: S608
                [pseudonym, user.pk],
            )
        audit.record(actor=actor, action="personal_data.erased", obj=user,
                     after={"user_id": user.pk})
