from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from mutualise.organisations import definition
from mutualise.organisations.reference import (
    public_body_type_choices,
    region_choices,
    sector_choices,
)


class OrganisationKind(models.TextChoices):
    PUBLIC_BODY = "public_body", "Public body"
    STAFF_GROUP = "staff_group", "Staff group planning to spin out"
    MUTUAL = "mutual", "Public service mutual"
    SOCIAL_ENTERPRISE = "social_enterprise", "Other social enterprise or charity"
    PRIVATE_COMPANY = "private_company", "Private company"


class LegalForm(models.TextChoices):
    NONE = "none", "Not incorporated"
    CIC_GUARANTEE = "cic_guarantee", "Community interest company limited by guarantee"
    CIC_SHARES = "cic_shares", "Community interest company limited by shares"
    COMPANY_GUARANTEE = "company_guarantee", "Company limited by guarantee"
    COMPANY_SHARES = "company_shares", "Company limited by shares"
    COMMUNITY_BENEFIT_SOCIETY = "community_benefit_society", "Community benefit society"
    COOPERATIVE_SOCIETY = "cooperative_society", "Co-operative society"
    CHARITABLE_INCORPORATED_ORGANISATION = "cio", "Charitable incorporated organisation"
    CHARITY = "charity", "Charity (unincorporated trust or association)"
    LIMITED_LIABILITY_PARTNERSHIP = "llp", "Limited liability partnership"
    PUBLIC_LIMITED_COMPANY = "plc", "Public limited company"
    PUBLIC_BODY = "public_body", "Public body"


class Organisation(models.Model):
    name = models.CharField(max_length=300)
    reference = models.CharField(
        max_length=40,
        blank=True,
        db_index=True,
        help_text="The programme's own reference, e.g. org-001 in the generated world.",
    )
    kind = models.CharField(max_length=32, choices=OrganisationKind.choices, db_index=True)
    legal_form = models.CharField(max_length=32, choices=LegalForm.choices, default=LegalForm.NONE)
    public_body_type = models.CharField(
        max_length=32, choices=public_body_type_choices(), blank=True
    )
    parent_body = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spin_outs",
        limit_choices_to={"kind": OrganisationKind.PUBLIC_BODY},
        help_text="The public body the group came from and delivers services for.",
    )
    sector = models.CharField(max_length=32, choices=sector_choices(), blank=True, db_index=True)
    region = models.CharField(max_length=32, choices=region_choices(), blank=True, db_index=True)
    description = models.TextField(blank=True)
    services_delivered = models.TextField(blank=True)
    delivers_in_england = models.BooleanField(null=True, blank=True)
    left_public_sector = models.BooleanField(null=True, blank=True)
    delivers_public_services = models.BooleanField(null=True, blank=True)
    has_social_mission = models.BooleanField(null=True, blank=True)
    spun_out_on = models.DateField(null=True, blank=True)
    staff_count = models.PositiveIntegerField(null=True, blank=True)
    annual_income_pence = models.BigIntegerField(null=True, blank=True)
    # Employee control as data: the two procurement regimes test it differently (DOMAIN.md §1).
    staff_vote_share_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    staff_board_seats = models.PositiveSmallIntegerField(null=True, blank=True)
    board_seats = models.PositiveSmallIntegerField(null=True, blank=True)
    employee_trust_stake_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "sector", "region"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(staff_board_seats__isnull=True)
                | models.Q(board_seats__isnull=True)
                | models.Q(staff_board_seats__lte=models.F("board_seats")),
                name="staff_seats_within_board",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organisations:detail", args=[self.pk])

    def facts(self) -> definition.MutualFacts:
        return definition.MutualFacts(
            left_public_sector=self.left_public_sector,
            delivers_public_services=self.delivers_public_services,
            has_social_mission=self.has_social_mission,
            staff_vote_share_percent=self.staff_vote_share_percent,
            staff_board_seats=self.staff_board_seats,
            board_seats=self.board_seats,
            employee_trust_stake_percent=self.employee_trust_stake_percent,
        )

    def mutual_verdict(self, version: str | None = None) -> definition.Verdict:
        return definition.evaluate(self.facts(), version)

    @property
    def sector_label(self) -> str:
        return self.get_sector_display() if self.sector else "Not recorded"

    @property
    def region_label(self) -> str:
        return self.get_region_display() if self.region else "Not recorded"

    def register_identifiers(self) -> list[Identifier]:
        return [i for i in self.identifiers.all() if i.scheme not in {"GB-PPON"}]


class Identifier(models.Model):
    """One register entry for an organisation: an organisation can be on several registers."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="identifiers"
    )
    scheme = models.CharField(max_length=16)
    value = models.CharField(max_length=40)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheme", "value"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "value"], name="unique_identifier"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme}-{self.value}"

    @property
    def prefixed(self) -> str:
        return f"{self.scheme}-{self.value}"
