"""The support fund: funds, rounds, applications, assessment, awards and the money ledger.

Balances are never stored: they are sums over the append-only LedgerEntry table (see ledger.py).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, transition

from mutualise.fund import ledger
from mutualise.fund.eligibility import RoundParameters
from mutualise.fund.rules import application_form, status_choices
from mutualise.organisations.models import Organisation


class Fund(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("fund:fund-detail", args=[self.pk])


class RoundState(models.TextChoices):
    UPCOMING = "upcoming", "Not open yet"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    DECIDED = "decided", "Decided"


class FundRound(models.Model):
    """A funding round. Its budget is the sum of its allocation entries in the ledger."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="rounds")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    maximum_award_pence = models.BigIntegerField(validators=[MinValueValidator(1)])
    eligibility_rules = models.JSONField(default=list, blank=True)
    eligibility_rules_version = models.CharField(max_length=40, blank=True)
    years_since_go_live = models.PositiveSmallIntegerField(default=5)
    minimum_words = models.PositiveSmallIntegerField(default=20)
    min_match_share_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Minimum cash match as a share of project cost; 0 means no minimum share.",
    )
    subsidy_cap_pence = models.BigIntegerField(
        null=True, blank=True, help_text="Subsidy cap over 3 fiscal years, in pence."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-opens_at", "name"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "name"], name="unique_round_name_in_fund"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="round_closes_after_it_opens",
            ),
            models.CheckConstraint(
                condition=models.Q(maximum_award_pence__gt=0), name="round_maximum_award_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund.name}: {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("fund:round-summary", args=[self.pk])

    def is_open(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now < self.closes_at

    def state(self, now: Any = None, pending: int | None = None) -> str:
        now = now or timezone.now()
        if now < self.opens_at:
            return RoundState.UPCOMING
        if now < self.closes_at:
            return RoundState.OPEN
        if pending is None:
            pending = self.applications.filter(
                status__in=["submitted", "in_assessment", "more_information_requested"]
            ).count()
        return RoundState.DECIDED if pending == 0 else RoundState.CLOSED

    def state_label(self, now: Any = None) -> str:
        return RoundState(self.state(now)).label

    def parameters(self) -> RoundParameters:
        return RoundParameters(
            rule_codes=tuple(self.eligibility_rules),
            years_since_go_live=self.years_since_go_live,
            minimum_words=self.minimum_words,
            min_match_share_percent=(
                Decimal(self.min_match_share_percent)
                if self.min_match_share_percent is not None
                else None
            ),
            subsidy_cap_pence=self.subsidy_cap_pence,
        )

    def balance(self) -> ledger.RoundBalance:
        return round_balance(self.pk)


def round_balance(round_id: int, *, per_award: bool = False) -> ledger.RoundBalance:
    """The round's balances, summed in the database over its ledger entries. With ``per_award``
    the sums are also broken down by award (one row per award and kind)."""
    fields = ("kind", "award_id") if per_award else ("kind",)
    rows = (
        LedgerEntry.objects.filter(round_id=round_id)
        .order_by()
        .values(*fields)
        .annotate(total=models.Sum("amount_pence"))
    )
    return ledger.balances(
        ledger.Entry(
            row["kind"],
            int(row["total"] or 0),
            row.get("award_id") if per_award else (None if row["kind"] == "allocation" else 0),
        )
        for row in rows
    )


class Criterion(models.Model):
    """One assessment criterion of a round, scored on the scale in rules/fund_criteria.yaml."""

    round = models.ForeignKey(FundRound, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    weight = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["round", "position", "id"]

    def __str__(self) -> str:
        return f"{self.title} (weight {self.weight})"


class Application(models.Model):
    """A staff group's or mutual's application to one round. Answers follow fund_application.yaml."""

    round = models.ForeignKey(FundRound, on_delete=models.PROTECT, related_name="applications")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="fund_applications"
    )
    reference = models.CharField(max_length=40, unique=True)
    # protected: only fund.services changes the status, through the transitions below.
    status = FSMField(default="draft", choices=status_choices(), protected=True, db_index=True)
    form_version = models.CharField(max_length=40, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    project_title = models.CharField(max_length=300, blank=True)
    amount_requested_pence = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    declaration_name = models.CharField(max_length=200, blank=True)
    declared_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reasons = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["round", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "organisation"],
                condition=~models.Q(status="withdrawn"),
                name="one_live_application_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.organisation.name}"

    def get_absolute_url(self) -> str:
        return reverse("fund:application-detail", args=[self.pk])

    @property
    def status_info(self) -> Any:
        return application_form().status(self.status)

    @property
    def staff_status(self) -> str:
        return self.status_info.staff_name

    @property
    def applicant_status(self) -> str:
        return self.status_info.applicant_name

    @property
    def is_editable(self) -> bool:
        return self.status in {"draft", "more_information_requested"}

    @transition(field=status, source=["draft", "more_information_requested"], target="submitted")
    def submit(self) -> None:
        """Called only by fund.services.submit_application."""

    @transition(field=status, source="submitted", target="in_assessment")
    def start_assessment(self) -> None:
        """Called only by fund.services."""

    @transition(
        field=status, source=["submitted", "in_assessment"], target="more_information_requested"
    )
    def request_more_information(self) -> None:
        """Called only by fund.services.request_more_information."""

    @transition(field=status, source="in_assessment", target="approved")
    def approve(self) -> None:
        """Called only by fund.services.approve_application."""

    @transition(field=status, source=["submitted", "in_assessment"], target="rejected")
    def reject(self) -> None:
        """Called only by fund.services.reject_application."""

    @transition(
        field=status,
        source=["draft", "submitted", "in_assessment", "more_information_requested"],
        target="withdrawn",
    )
    def withdraw(self) -> None:
        """Called only by fund.services.withdraw_application."""


class InformationRequest(models.Model):
    """An officer's question back to the applicant, and the applicant's answer."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="information_requests"
    )
    question = models.TextField()
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]

    def __str__(self) -> str:
        return f"Question on {self.application.reference}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the user: a random name under MEDIA_ROOT/fund/.
    suffix = PurePath(filename).suffix.lower()
    return f"fund/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A checked file (PDF, DOCX or XLSX) stored under MEDIA_ROOT and served only after a
    permission check, always as a download."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    payment = models.ForeignKey(
        "LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_files",
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=8)
    content_type = models.CharField(max_length=120)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("fund:attachment-download", args=[self.pk])


class AffiliationKind(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    BOARD_MEMBER = "board_member", "Board member or councillor"
    ADVISER = "adviser", "Paid adviser or contractor"


class AssessorAffiliation(models.Model):
    """A link between a person and an organisation that lives outside role assignments, such as
    an assessor who works for a public body. Officers record it; it blocks that person from
    assessing applications from the organisation and from groups whose parent body it is."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fund_affiliations"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="assessor_affiliations"
    )
    relationship = models.CharField(max_length=20, choices=AffiliationKind.choices)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "organisation"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "relationship"], name="unique_assessor_affiliation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_relationship_display()} of {self.organisation}"


class AssessorAssignment(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="assignments"
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fund_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    overall_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "assessor"], name="one_assignment_per_assessor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessor} assesses {self.application.reference}"

    def get_absolute_url(self) -> str:
        return reverse("fund:assessment", args=[self.pk])


class Score(models.Model):
    assignment = models.ForeignKey(
        AssessorAssignment, on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="scores")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField()
    moderated_score = models.PositiveSmallIntegerField(null=True, blank=True)
    moderation_note = models.TextField(blank=True)

    class Meta:
        ordering = ["criterion__position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "criterion"], name="one_score_per_criterion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.title}: {self.score}"

    @property
    def final_score(self) -> int:
        return self.moderated_score if self.moderated_score is not None else self.score


class Award(models.Model):
    """An approved application. What it is worth and what was paid are sums over the ledger."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="award")
    round = models.ForeignKey(FundRound, on_delete=models.PROTECT, related_name="awards")
    approved_amount_pence = models.BigIntegerField(
        help_text="The amount at approval, kept as a fact of the decision; the current commitment "
        "is the ledger sum."
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    approved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-approved_at", "-id"]

    def __str__(self) -> str:
        return f"Award {self.application.reference}"

    def get_absolute_url(self) -> str:
        return reverse("fund:award-detail", args=[self.pk])

    def balance(self) -> ledger.AwardBalance:
        totals = dict(
            LedgerEntry.objects.filter(award_id=self.pk)
            .values("kind")
            .annotate(total=models.Sum("amount_pence"))
            .values_list("kind", "total")
        )
        return ledger.AwardBalance(
            committed=sum(int(totals.get(k) or 0) for k in ledger.COMMITTED_KINDS),
            paid=sum(int(totals.get(k) or 0) for k in ledger.PAID_KINDS),
        )


class Milestone(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    due_on = models.DateField(null=True, blank=True)
    planned_amount_pence = models.BigIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["award", "position", "id"]

    def __str__(self) -> str:
        return self.title

    def paid_pence(self) -> int:
        total = LedgerEntry.objects.filter(
            milestone_id=self.pk, kind__in=ledger.PAID_KINDS
        ).aggregate(total=models.Sum("amount_pence"))["total"]
        return int(total or 0)


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The fund ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The fund ledger is append-only")


class LedgerEntry(models.Model):
    """One movement of money. Append-only: corrections are new entries, never edits."""

    KIND_CHOICES = list(ledger.KINDS.items())

    round = models.ForeignKey(FundRound, on_delete=models.PROTECT, related_name="ledger_entries")
    award = models.ForeignKey(
        Award, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    milestone = models.ForeignKey(
        Milestone, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    amount_pence = models.BigIntegerField(help_text="Signed: releases and clawbacks are negative.")
    reason = models.TextField()
    evidence = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["round", "kind"]), models.Index(fields=["award", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["commitment", "payment"], amount_pence__gt=0)
                    | models.Q(kind__in=["release", "clawback"], amount_pence__lt=0)
                    | models.Q(kind="allocation")
                ),
                name="ledger_entry_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="allocation") | models.Q(award__isnull=False),
                name="ledger_entry_award_needed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_pence}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The fund ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The fund ledger is append-only")
