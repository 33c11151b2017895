from __future__ import annotations

import hashlib
from typing import Any

import orjson
from django.contrib.auth.models import AbstractUser
from django.db import models

from mutualise.core.roles import PROGRAMME_STAFF, ROLE_CHOICES, Role


class User(AbstractUser):
    """A person who signs in. What they may do comes from their role assignments."""

    full_name = models.CharField(max_length=200, blank=True)
    email_opt_out = models.BooleanField(
        default=False, help_text="Turns off non-essential emails (reminders, digests)."
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def roles(self) -> set[Role]:
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = {Role(r) for r in self.role_assignments.values_list("role", flat=True)}
            self._role_cache = cached
        return cached

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles() & set(roles))

    @property
    def is_programme_staff(self) -> bool:
        return bool(self.roles() & PROGRAMME_STAFF) or self.is_superuser

    def organisation_ids(self, *roles: Role) -> set[int]:
        query = self.role_assignments.filter(organisation__isnull=False)
        if roles:
            query = query.filter(role__in=[r.value for r in roles])
        return set(query.values_list("organisation_id", flat=True))


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
        help_text="The group or mutual a member or leader acts for.",
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "organisation"], name="unique_role_assignment"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        role__in=["staff_group_member", "mutual_leader"], organisation__isnull=False
                    )
                    | ~models.Q(role__in=["staff_group_member", "mutual_leader"])
                ),
                name="scoped_roles_need_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.get_role_display()}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only")


class AuditEvent(models.Model):
    """One state change: who, when, what, before and after. Append-only and hash-chained."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(
        max_length=200, help_text="Who acted, as shown; blanked if the person's data is erased."
    )
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=300, blank=True)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only")

    def hash_payload(self) -> bytes:
        return orjson.dumps(
            {
                "at": self.at.isoformat(),
                # The id, not the name: erasing a person's name (a subject's right) must not
                # break the chain, and the id still says who acted.
                "actor_id": self.actor_id,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "organisation": self.organisation_id,
                "before": self.before,
                "after": self.after,
                "previous": self.previous_hash,
            },
            option=orjson.OPT_SORT_KEYS,
            default=str,
        )

    def compute_hash(self) -> str:
        return hashlib.sha256(self.hash_payload()).hexdigest()


class Notification(models.Model):
    """An email queued for a user; sent by a background task, never twice."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    essential = models.BooleanField(default=True)
    dedupe_key = models.CharField(max_length=200, blank=True, null=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.user}"


class AuditChainHead(models.Model):
    """One row whose lock serialises writers, so the hash chain never forks."""

    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return self.last_hash


class TwoFactorThrottle(models.Model):
    """Wrong security codes a person has entered in a row, so guessing can be stopped.

    django-otp's own per-device back-off is turned off in settings (it refuses even a right code
    for a moment after a wrong one); this one counter covers sign-in, set-up and turning off.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor_throttle")
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.failures} wrong codes"


class RetentionRun(models.Model):
    """One run of `mutualise personal-data purge`: what the retention policy removed."""

    at = models.DateTimeField()
    policy_version = models.CharField(max_length=40)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Retention run {self.at:%Y-%m-%d %H:%M} (policy {self.policy_version})"
