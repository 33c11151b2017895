"""Contracts of mutuals and what happened at re-tender, loaded from the pipeline's warehouse.

Rows here are a copy of pipeline output (`watch.services.load_from_warehouse` keeps them in step,
keyed by (ocid, award_id)); only alerts and reservation checks are made in the app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SupplierClass(models.TextChoices):
    PUBLIC_SERVICE_MUTUAL = "PUBLIC_SERVICE_MUTUAL", "Public service mutual"
    OTHER_SOCIAL_ENTERPRISE_OR_VCSE = (
        "OTHER_SOCIAL_ENTERPRISE_OR_VCSE",
        "Other social enterprise or VCSE",
    )
    SME = "SME", "Small or medium-sized enterprise"
    LARGE_PRIVATE = "LARGE_PRIVATE", "Large private company"
    PUBLIC_BODY = "PUBLIC_BODY", "Public body"
    UNKNOWN = "UNKNOWN", "Not known"


class Outcome(models.TextChoices):
    RETAINED = "RETAINED", "Retained"
    LOST_TO_LARGE_PRIVATE = "LOST_TO_LARGE_PRIVATE", "Lost to a large private company"
    LOST_TO_SME_OR_VCSE = "LOST_TO_SME_OR_VCSE", "Lost to an SME or VCSE"
    LOST_TO_PUBLIC_BODY = "LOST_TO_PUBLIC_BODY", "Lost to a public body"
    INSOURCED = "INSOURCED", "Taken back in-house"
    ACQUIRED = "ACQUIRED", "Acquired"
    WOUND_UP = "WOUND_UP", "Wound up"
    EXTENDED = "EXTENDED", "Extended"
    PENDING = "PENDING", "Re-tender under way"
    UNKNOWN = "UNKNOWN", "Not known"


class WatchedContract(models.Model):
    ocid = models.CharField(max_length=120)
    award_id = models.CharField(max_length=200)
    process_ocid = models.CharField(max_length=120, blank=True)
    title = models.TextField(blank=True)
    cpv = models.CharField(max_length=12, blank=True)
    buyer_identifier = models.CharField(max_length=120, blank=True, db_index=True)
    buyer_name = models.CharField(max_length=300, blank=True)
    buyer_key = models.CharField(max_length=300, blank=True, db_index=True)
    supplier_organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="watched_contracts",
        help_text="The programme organisation that holds this contract, when its identifier matches.",
    )
    supplier_identifier = models.CharField(max_length=120, blank=True, db_index=True)
    supplier_name = models.CharField(max_length=300, blank=True)
    supplier_class = models.CharField(
        max_length=40, choices=SupplierClass.choices, default=SupplierClass.UNKNOWN, db_index=True
    )
    value_pence = models.BigIntegerField(null=True, blank=True)
    award_date = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True, db_index=True)
    original_end_date = models.DateField(null=True, blank=True)
    max_end_date = models.DateField(null=True, blank=True)
    has_renewal = models.BooleanField(null=True, blank=True)
    extended = models.BooleanField(default=False)
    reserved = models.BooleanField(default=False)
    procedure = models.CharField(max_length=200, blank=True)
    missed_reservation = models.BooleanField(
        default=False,
        db_index=True,
        help_text="Won by a large firm, not reserved, yet eligible for reservation to mutuals.",
    )
    reservation_regime = models.CharField(max_length=60, blank=True)
    content_hash = models.CharField(max_length=64)
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["end_date", "ocid", "award_id"]
        constraints = [
            models.UniqueConstraint(fields=["ocid", "award_id"], name="unique_watched_award")
        ]
        indexes = [models.Index(fields=["supplier_organisation", "end_date"])]

    def __str__(self) -> str:
        return f"{self.title or self.ocid} ({self.award_id})"


class RetenderLink(models.Model):
    predecessor = models.OneToOneField(
        WatchedContract, on_delete=models.CASCADE, related_name="successor_link"
    )
    successor = models.ForeignKey(
        WatchedContract, on_delete=models.CASCADE, related_name="predecessor_links"
    )
    confidence = models.FloatField()
    evidence = models.TextField()

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor}"


class ContractOutcome(models.Model):
    contract = models.OneToOneField(
        WatchedContract, on_delete=models.CASCADE, related_name="outcome"
    )
    outcome = models.CharField(max_length=40, choices=Outcome.choices, db_index=True)
    confidence = models.FloatField()
    reason = models.TextField()
    source_rows = models.TextField()
    successor_ocid = models.CharField(max_length=120, blank=True)
    successor_award_id = models.CharField(max_length=200, blank=True)
    successor_class = models.CharField(max_length=40, blank=True)
    successor_supplier_name = models.CharField(max_length=300, blank=True)
    as_of = models.DateField()

    def __str__(self) -> str:
        return f"{self.contract}: {self.outcome}"


class Notice(models.Model):
    """A planning or tender notice (no award yet) from the same buyer for the same service."""

    contract = models.ForeignKey(WatchedContract, on_delete=models.CASCADE, related_name="notices")
    notice_ocid = models.CharField(max_length=120)
    stage = models.CharField(max_length=20)
    title = models.TextField(blank=True)
    cpv = models.CharField(max_length=12, blank=True)
    published_on = models.DateField(null=True, blank=True)
    score = models.FloatField()

    class Meta:
        ordering = ["published_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "notice_ocid"], name="unique_contract_notice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage} notice {self.notice_ocid}"


class Alert(models.Model):
    """One email about one event of one contract to one person: never sent twice."""

    contract = models.ForeignKey(WatchedContract, on_delete=models.CASCADE, related_name="alerts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_alerts"
    )
    event = models.CharField(
        max_length=160, help_text="horizon-18, horizon-12, horizon-6 or notice:<ocid>"
    )
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contract", "user", "event"], name="unique_alert_event")
        ]

    def __str__(self) -> str:
        return f"{self.event} for {self.contract}"


class ReservationCheck(models.Model):
    """A reservation check someone made with the form, and its answer."""

    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reservation_checks",
    )
    cpv_codes = models.CharField(max_length=400)
    maximum_term_months = models.PositiveIntegerField()
    award_date = models.DateField()
    procedure = models.CharField(max_length=60, blank=True)
    supplier_identifier = models.CharField(max_length=120, blank=True)
    buyer_identifier = models.CharField(max_length=120, blank=True)
    regime = models.CharField(max_length=60, blank=True)
    eligible = models.BooleanField()
    conditions = models.JSONField()
    rules_version = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Reservation check {self.pk}: {'eligible' if self.eligible else 'not eligible'}"


class WarehouseLoad(models.Model):
    """One load of pipeline output into the app database, with what changed."""

    warehouse = models.CharField(max_length=500)
    as_of = models.DateField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    outcomes = models.PositiveIntegerField(default=0)
    links = models.PositiveIntegerField(default=0)
    notices = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return f"Load of {self.loaded_at:%Y-%m-%d %H:%M}"
