"""Award suppliers resolved to organisations (loaded from the warehouse) and officers' review decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

SUPPLIER_CLASSES = [
    ("PUBLIC_SERVICE_MUTUAL", "Public service mutual"),
    ("OTHER_SOCIAL_ENTERPRISE_OR_VCSE", "Other social enterprise or VCSE"),
    ("SME", "Small or medium-sized enterprise"),
    ("LARGE_PRIVATE", "Large private company"),
    ("PUBLIC_BODY", "Public body"),
    ("UNKNOWN", "Unknown"),
]
MATCHED_BY = [
    ("identifier", "By identifier"),
    ("probabilistic", "By name and address"),
    ("review", "By a programme officer"),
    ("programme", "By the programme's records"),
    ("none", "Not resolved"),
]


class SupplierOrganisation(models.Model):
    """An organisation that won at least one award, as resolved by `mutualise resolve`."""

    identifier = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=300)
    supplier_class = models.CharField(max_length=40, choices=SUPPLIER_CLASSES, db_index=True)
    class_reason = models.TextField(blank=True)
    programme_organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.identifier})"


class SupplierMention(models.Model):
    """One award supplier as published, and what it was resolved to."""

    ocid = models.CharField(max_length=200, db_index=True)
    award_id = models.CharField(max_length=200)
    supplier_party_id = models.CharField(max_length=200, blank=True)
    position = models.IntegerField(default=0)
    supplier_name = models.CharField(max_length=500, blank=True)
    supplier_identifier = models.CharField(max_length=120, blank=True)
    mention_key = models.CharField(max_length=32, db_index=True)
    organisation = models.ForeignKey(
        SupplierOrganisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentions",
    )
    supplier_class = models.CharField(max_length=40, choices=SUPPLIER_CLASSES)
    class_reason = models.TextField(blank=True)
    match_probability = models.FloatField(null=True, blank=True)
    matched_by = models.CharField(max_length=16, choices=MATCHED_BY)
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["ocid", "award_id", "position"]
        indexes = [models.Index(fields=["ocid", "award_id"])]

    def __str__(self) -> str:
        return f"{self.supplier_name} in {self.ocid} award {self.award_id}"


class ReviewItem(models.Model):
    """A published supplier name the model was unsure about, waiting for an officer."""

    mention_key = models.CharField(max_length=32, unique=True)
    supplier_name = models.CharField(max_length=500)
    supplier_identifier = models.CharField(max_length=120, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    address_line = models.CharField(max_length=300, blank=True)
    mentions = models.PositiveIntegerField(default=0)
    example_ocid = models.CharField(max_length=200, blank=True)
    candidates = models.JSONField(default=list)

    class Meta:
        ordering = ["-mentions", "supplier_name"]

    def __str__(self) -> str:
        return self.supplier_name


class ReviewDecision(models.Model):
    """An officer's decision on a supplier name; remembered across re-runs of resolve."""

    class Decision(models.TextChoices):
        ACCEPT = "accept", "Accept the suggested organisation"
        REJECT = "reject", "Reject: none of these organisations"
        CHOOSE = "choose", "Choose another organisation"

    mention_key = models.CharField(max_length=32, db_index=True)
    supplier_name = models.CharField(max_length=500, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    organisation_identifier = models.CharField(max_length=64, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} {self.supplier_name}"
