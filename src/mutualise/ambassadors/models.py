"""Ambassadors, match runs, proposed matches, engagements and ratings. Thin: state changes live
in ambassadors/services.py, matching arithmetic in ambassadors/matching.py."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from mutualise.organisations.models import Organisation


class AmbassadorProfile(models.Model):
    """An unpaid leader of an established mutual who helps groups (DOMAIN.md §2)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ambassador_profile"
    )
    leads_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ambassadors_leading",
        help_text="The mutual the ambassador leads.",
    )
    sectors = models.JSONField(default=list, blank=True, help_text="Sector codes they know.")
    stages = models.JSONField(default=list, blank=True, help_text="Journey stages they know.")
    regions = models.JSONField(default=list, blank=True, help_text="Regions they cover.")
    capacity = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(0), MaxValueValidator(20)],
        help_text="How many groups they can help at once.",
    )
    topics_offered = models.JSONField(default=list, blank=True)
    excluded_topics = models.JSONField(default=list, blank=True)
    does_not_want = models.TextField(blank=True, help_text="Anything else they do not want.")
    available_from = models.DateField(
        null=True, blank=True, help_text="First day they can take new groups (blank: now)."
    )
    available_until = models.DateField(
        null=True, blank=True, help_text="Last day they can take new groups (blank: no end)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__full_name", "user__username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(available_until__isnull=True)
                | models.Q(available_from__isnull=True)
                | models.Q(available_until__gte=models.F("available_from")),
                name="ambassador_available_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.user.display_name

    @property
    def name(self) -> str:
        return self.user.display_name

    def is_away_on(self, day) -> bool:  # type: ignore[no-untyped-def]
        return any(p.starts_on <= day <= p.ends_on for p in self.away_periods.all())

    def unavailable_reason(self, day) -> str | None:  # type: ignore[no-untyped-def]
        """Why no new group can be proposed to them on `day`, or None when they can take one."""
        if self.available_from is not None and day < self.available_from:
            return f"available only from {self.available_from:%-d %B %Y}"
        if self.available_until is not None and day > self.available_until:
            return f"available only until {self.available_until:%-d %B %Y}"
        if self.is_away_on(day):
            return "away now"
        return None


class AwayPeriod(models.Model):
    """A window when the ambassador is not available: no new groups are proposed to them."""

    profile = models.ForeignKey(
        AmbassadorProfile, on_delete=models.CASCADE, related_name="away_periods"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="away_period_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} away {self.starts_on} to {self.ends_on}"


class ConflictKind(models.TextChoices):
    COMPETING_BID = "competing_bid", "Competing bid"
    EMPLOYER_LINK = "employer_link", "Employer link"
    OTHER = "other", "Other conflict of interest"


class DeclaredConflict(models.Model):
    """A conflict of interest an officer records: the ambassador is never paired with the group.

    Same parent body and employer links are found from organisation data, and competing bids
    from contract watch when the ambassador's mutual holds a contract from the group's parent
    body; other competing bids (open data shows awards, not every bid) are declared here.
    """

    profile = models.ForeignKey(
        AmbassadorProfile, on_delete=models.CASCADE, related_name="declared_conflicts"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ambassador_conflicts"
    )
    kind = models.CharField(max_length=32, choices=ConflictKind.choices)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "organisation"], name="one_declared_conflict_per_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} / {self.organisation}: {self.get_kind_display()}"


class PairRule(models.TextChoices):
    PIN = "pin", "Pinned"
    FORBID = "forbid", "Forbidden"


class PairConstraint(models.Model):
    """An officer's instruction for the next match runs: pin this pair, or never propose it."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ambassador_pair_constraints"
    )
    profile = models.ForeignKey(
        AmbassadorProfile, on_delete=models.CASCADE, related_name="pair_constraints"
    )
    rule = models.CharField(max_length=8, choices=PairRule.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "profile", "rule"], name="one_pair_constraint_per_rule"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.organisation} with {self.profile}"


class MatchRun(models.Model):
    """One run of the matcher: a draft proposal until an officer confirms it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        CONFIRMED = "confirmed", "Confirmed"
        SUPERSEDED = "superseded", "Superseded by a later run"

    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    run_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    parameters = models.JSONField(default=dict, help_text="Rules version, pins, forbids, sizes.")
    summary = models.JSONField(default=dict, help_text="Totals, timings, notes.")
    result = models.JSONField(
        default=list, help_text="The proposed pairs with score parts and explanations."
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-run_at", "-id"]

    def __str__(self) -> str:
        return f"Match run {self.pk} ({self.get_status_display()})"


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ENDED = "ended", "Ended"


# Staff-facing and group-facing names of each status (DESIGN.md rule 2).
STATUS_NAMES = {
    MatchStatus.PROPOSED: ("Proposed, waiting for the ambassador", "An ambassador is being asked"),
    MatchStatus.ACCEPTED: ("Accepted", "Your ambassador"),
    MatchStatus.DECLINED: ("Declined by the ambassador", "Finding another ambassador"),
    MatchStatus.WITHDRAWN: ("Withdrawn by an officer", "Finding another ambassador"),
    MatchStatus.ENDED: ("Ended", "Ended"),
}
ACTIVE_STATUSES = (MatchStatus.PROPOSED, MatchStatus.ACCEPTED)


class ProposedMatch(models.Model):
    """An ambassador proposed for a group; they accept or decline, and later it ends."""

    run = models.ForeignKey(
        MatchRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="matches"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ambassador_matches"
    )
    profile = models.ForeignKey(AmbassadorProfile, on_delete=models.PROTECT, related_name="matches")
    # protected: only ambassadors.services changes the status, through the transitions below.
    status = FSMField(
        default=MatchStatus.PROPOSED, choices=MatchStatus.choices, protected=True, db_index=True
    )
    score_total = models.FloatField(default=0)
    score_parts = models.JSONField(default=dict)
    explanation = models.JSONField(default=list)
    rules_version = models.CharField(max_length=40, blank=True)
    pinned = models.BooleanField(default=False)
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(status__in=["proposed", "accepted"]),
                name="one_active_ambassador_match_per_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} for {self.organisation} ({self.get_status_display()})"

    @property
    def staff_status_name(self) -> str:
        return STATUS_NAMES[MatchStatus(self.status)][0]

    @property
    def group_status_name(self) -> str:
        return STATUS_NAMES[MatchStatus(self.status)][1]

    @property
    def status_tag_class(self) -> str:
        return {
            "proposed": "govuk-tag--yellow",
            "accepted": "govuk-tag--green",
            "declined": "govuk-tag--red",
            "withdrawn": "govuk-tag--grey",
            "ended": "govuk-tag--grey",
        }[self.status]

    @transition(field=status, source=MatchStatus.PROPOSED, target=MatchStatus.ACCEPTED)
    def accept(self) -> None:
        self.decided_at = timezone.now()

    @transition(field=status, source=MatchStatus.PROPOSED, target=MatchStatus.DECLINED)
    def decline(self, reason: str) -> None:
        self.decided_at = timezone.now()
        self.decline_reason = reason

    @transition(field=status, source=MatchStatus.PROPOSED, target=MatchStatus.WITHDRAWN)
    def withdraw(self, reason: str) -> None:
        self.ended_at = timezone.now()
        self.end_reason = reason

    @transition(field=status, source=MatchStatus.ACCEPTED, target=MatchStatus.ENDED)
    def end(self, reason: str) -> None:
        self.ended_at = timezone.now()
        self.end_reason = reason


class AmbassadorRequest(models.Model):
    """A group asking for an ambassador. Open until a match is accepted."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ambassador_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Request from {self.organisation} on {self.requested_at:%Y-%m-%d}"


class Engagement(models.Model):
    """One meeting or call between an ambassador and their group."""

    match = models.ForeignKey(ProposedMatch, on_delete=models.PROTECT, related_name="engagements")
    held_on = models.DateField()
    topics = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    actions_agreed = models.TextField()
    follow_up_on = models.DateField(null=True, blank=True)
    follow_up_done_at = models.DateTimeField(null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    logged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"Engagement on {self.held_on} with {self.match.organisation}"

    @property
    def follow_up_overdue(self) -> bool:
        return (
            self.follow_up_on is not None
            and self.follow_up_done_at is None
            and self.follow_up_on < timezone.localdate()
        )


class EngagementRating(models.Model):
    """A group member's rating of one engagement (1 to 5)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="ratings")
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-rated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "rated_by"], name="one_rating_per_member"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="rating_between_1_and_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.engagement}"
