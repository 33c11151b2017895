from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import task

from mutualise.core.models import Notification


@task()
def send_notification(notification_id: int) -> None:
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if notification.sent_at or notification.skipped_reason:
        return
    user = notification.user
    if not notification.essential and user.email_opt_out:
        Notification.objects.filter(pk=notification.pk).update(
            skipped_reason="user turned off non-essential emails"
        )
        return
    if not user.email:
        Notification.objects.filter(pk=notification.pk).update(skipped_reason="no email address")
        return
    send_mail(
        notification.subject,
        notification.body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        fail_silently=False,
    )
    Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now())
