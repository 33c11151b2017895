"""Queue emails for users. Delivery happens in a background task after the transaction commits."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from mutualise.core.models import Notification, User


def site_url(path: str) -> str:
    """The absolute address of a page of this service, for emails (MUTUALISE_SITE_URL)."""
    return settings.MUTUALISE_SITE_URL.rstrip("/") + path


def notify(
    user: User,
    subject: str,
    body: str,
    *,
    essential: bool = True,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Queue one email. With a dedupe_key the same event is never notified twice."""
    from mutualise.core.tasks import send_notification

    if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user, subject=subject, body=body, essential=essential, dedupe_key=dedupe_key
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: send_notification.enqueue(notification.pk))
    return notification
