"""The only place journeys change. Each service checks permission, validates, changes state in
one transaction, writes the audit event and queues notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from mutualise.core import audit
from mutualise.core.models import User
from mutualise.core.notifications import notify, site_url
from mutualise.core.roles import Role
from mutualise.journeys import readiness
from mutualise.journeys.evidence import CheckResult, run_checks
from mutualise.journeys.models import Journey, ReadinessAssessment
from mutualise.journeys.workflow import load_workflow, required_checks
from mutualise.organisations.models import OrganisationKind


class MoveRefused(Exception):
    """A move the rules do not allow; ``reasons`` are shown to the user as they are."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class MovePreview:
    source: str
    target: str
    checks: list[CheckResult]

    @property
    def allowed(self) -> bool:
        return all(check.passed for check in self.checks)


def can_move(user: User) -> bool:
    roles = load_workflow().move_roles
    return user.is_superuser or any(role.value in roles for role in user.roles())


def preview_move(journey: Journey, target: str) -> MovePreview:
    workflow = load_workflow()
    if target not in workflow.allowed_targets(journey.stage):
        allowed = ", ".join(
            workflow.stage(t).staff_name for t in workflow.allowed_targets(journey.stage)
        )
        raise MoveRefused(
            [
                f"A group cannot move from {journey.stage_name} to "
                f"{workflow.stage(target).staff_name if target in workflow.codes else target}. "
                f"It can move to: {allowed or 'nowhere (this is the last stage)'}."
            ]
        )
    checks = run_checks(required_checks(journey.stage, target), journey.snapshot())
    return MovePreview(journey.stage, target, checks)


def move_stage(journey: Journey, target: str, *, actor: User, note: str = "") -> Journey:
    """Move a group to ``target``; refuse with every missing piece of evidence named."""
    if not can_move(actor):
        raise PermissionDenied("Only programme officers can move a group between stages")
    with transaction.atomic():
        locked = (
            Journey.objects.select_for_update().select_related("organisation").get(pk=journey.pk)
        )
        preview = preview_move(locked, target)
        if not preview.allowed:
            raise MoveRefused([check.message for check in preview.checks if not check.passed])
        before = {"stage": locked.stage}
        locked.move(target)
        locked.stage_entered_at = timezone.now()
        organisation = locked.organisation
        if target == "LIVE":
            locked.go_live_date = locked.go_live_date or timezone.localdate()
            organisation.kind = OrganisationKind.MUTUAL
            organisation.left_public_sector = True
            organisation.save(update_fields=["kind", "left_public_sector", "updated_at"])
        locked.save()
        audit.record(
            actor=actor,
            action="journey.moved",
            obj=locked,
            organisation=organisation,
            before=before,
            after={"stage": target, "note": note},
        )
        _notify_members(locked, f"{organisation.name} has moved to {locked.applicant_stage_name}")
    return locked


def _notify_members(journey: Journey, subject: str) -> None:
    members = User.objects.filter(
        role_assignments__organisation=journey.organisation,
        role_assignments__role__in=[Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER],
    ).distinct()
    for member in members:
        notify(
            member,
            subject,
            f"{subject}.\n\nSee what the new stage needs: {site_url(journey.get_absolute_url())}",
            essential=False,
        )


EVIDENCE_FIELDS = (
    "senior_sponsor_name",
    "senior_sponsor_role",
    "options_appraisal_choice",
    "business_case_completed_on",
    "parent_body_decision_date",
    "parent_body_decision_reference",
    "procurement_route",
    "service_contract_reference",
    "service_contract_start",
    "contract_end_date",
    "shadow_operation_started_on",
    "diversification_plan",
    "retender_outcome",
    "stated_needs",
    "needs_ambassador",
)

# What a group's own members and leaders may record about their journey; the rest is for staff.
MEMBER_EVIDENCE_FIELDS = (
    "senior_sponsor_name",
    "senior_sponsor_role",
    "stated_needs",
    "needs_ambassador",
)


def update_evidence(journey: Journey, changes: dict[str, Any], *, actor: User) -> Journey:
    """Record journey evidence. Members of the group and programme staff may do this."""
    from mutualise.core.permissions import acts_for, is_programme_staff

    staff = is_programme_staff(actor)
    if not (staff or acts_for(actor, journey.organisation_id)):
        raise PermissionDenied("You cannot change this group's journey")
    if not staff and set(changes) - set(MEMBER_EVIDENCE_FIELDS):
        raise PermissionDenied("Only programme officers can record that evidence")
    unknown = set(changes) - set(EVIDENCE_FIELDS)
    if unknown:
        raise ValueError(f"Not journey evidence: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Journey.objects.select_for_update().get(pk=journey.pk)
        before = {field: getattr(locked, field) for field in changes}
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.full_clean(exclude=["stage"])
        locked.save()
        after = {field: getattr(locked, field) for field in changes}
        if before != after:
            audit.record(
                actor=actor,
                action="journey.evidence_updated",
                obj=locked,
                organisation=locked.organisation,
                before=before,
                after=after,
            )
    return locked


# --- readiness self-assessment ---------------------------------------------------------------


class AssessmentLocked(Exception):
    """A submitted assessment cannot be changed; start a new one instead."""


def can_take_assessment(user: User, journey: Journey) -> bool:
    """Only the group's own members and leaders answer its readiness self-assessment."""
    from mutualise.core.permissions import acts_for

    return acts_for(user, journey.organisation_id)


def _require_taker(user: User, journey: Journey) -> None:
    if not can_take_assessment(user, journey):
        raise PermissionDenied("Only members of the group can answer its readiness assessment")


def start_assessment(journey: Journey, *, actor: User) -> ReadinessAssessment:
    """Return the group's unfinished assessment, or start a new one on the current version."""
    _require_taker(actor, journey)
    with transaction.atomic():
        Journey.objects.select_for_update().get(pk=journey.pk)  # one unfinished attempt at a time
        drafts = journey.assessments.filter(submitted_at__isnull=True).order_by("-started_at")
        draft = drafts.first()
        # If the questionnaire changed under an unfinished attempt, keep it and start afresh.
        if draft is not None and draft.questionnaire_version in readiness.questionnaires():
            return draft
        version = readiness.current_version()
        assessment = ReadinessAssessment.objects.create(
            journey=journey, started_by=actor, questionnaire_version=version, answers={}
        )
        audit.record(
            actor=actor,
            action="readiness.started",
            obj=assessment,
            organisation=journey.organisation,
            after={"questionnaire_version": version},
        )
    return assessment


def _locked_draft(assessment: ReadinessAssessment) -> ReadinessAssessment:
    locked = (
        ReadinessAssessment.objects.select_for_update()
        .select_related("journey__organisation")
        .get(pk=assessment.pk)
    )
    if locked.is_submitted:
        raise AssessmentLocked("This assessment has been submitted and cannot be changed")
    return locked


def record_answer(
    assessment: ReadinessAssessment, question_code: str, option_code: str, *, actor: User
) -> ReadinessAssessment:
    """Save one answer as the member goes, so they can stop and come back."""
    _require_taker(actor, assessment.journey)
    questionnaire = readiness.load_questionnaire(assessment.questionnaire_version)
    question = questionnaire.question(question_code)
    if question is None:
        raise ValueError(f"{question_code} is not a question in this assessment")
    if question.option(option_code) is None:
        raise ValueError(f"{option_code} is not an answer to {question_code}")
    with transaction.atomic():
        locked = _locked_draft(assessment)
        before = locked.answers.get(question_code)
        if before != option_code:
            locked.answers = {**locked.answers, question_code: option_code}
            locked.save(update_fields=["answers"])
            audit.record(
                actor=actor,
                action="readiness.answered",
                obj=locked,
                organisation=locked.journey.organisation,
                before={question_code: before},
                after={question_code: option_code},
            )
    return locked


def submit_assessment(
    assessment: ReadinessAssessment, *, actor: User, at: datetime | None = None
) -> ReadinessAssessment:
    """Score and lock the assessment. Raises readiness.IncompleteAnswers if anything is missing.

    ``at`` backdates the submission (demo data and imports of earlier paper assessments).
    """
    _require_taker(actor, assessment.journey)
    with transaction.atomic():
        locked = _locked_draft(assessment)
        questionnaire = readiness.load_questionnaire(locked.questionnaire_version)
        result = readiness.score(questionnaire, locked.answers)
        locked.result = result.as_dict()
        locked.submitted_at = at or timezone.now()
        locked.save(update_fields=["result", "submitted_at"])
        audit.record(
            actor=actor,
            action="readiness.submitted",
            obj=locked,
            organisation=locked.journey.organisation,
            after={t.name: f"{t.score} of {t.maximum} ({t.band_name})" for t in result.themes},
        )
    return locked
