"""The only place journeys change. Each service checks permission, validates, changes state in
one transaction, writes the audit event and queues notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from mutualise.core import audit
from mutualise.core.models import User
from mutualise.core.notifications import notify
from mutualise.core.roles import Role
from mutualise.journeys.evidence import CheckResult, run_checks
from mutualise.journeys.models import Journey
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
        allowed = ", ".join(workflow.stage(t).staff_name for t in workflow.allowed_targets(journey.stage))
        raise MoveRefused([
            f"A group cannot move from {journey.stage_name} to "
            f"{workflow.stage(target).staff_name if target in workflow.codes else target}. "
            f"It can move to: {allowed or 'nowhere (this is the last stage)'}."
        ])
    checks = run_checks(required_checks(journey.stage, target), journey.snapshot())
    return MovePreview(journey.stage, target, checks)


def move_stage(journey: Journey, target: str, *, actor: User, note: str = "") -> Journey:
    """Move a group to ``target``; refuse with every missing piece of evidence named."""
    if not can_move(actor):
        raise PermissionDenied("Only programme officers can move a group between stages")
    with transaction.atomic():
        locked = Journey.objects.select_for_update().select_related("organisation").get(pk=journey.pk)
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
            f"{subject}.\n\nSee what the new stage needs: {journey.get_absolute_url()}",
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


def update_evidence(journey: Journey, changes: dict[str, Any], *, actor: User) -> Journey:
    """Record journey evidence. Members of the group and programme staff may do this."""
    from mutualise.core.permissions import acts_for, is_programme_staff

    if not (is_programme_staff(actor) or acts_for(actor, journey.organisation_id)):
        raise PermissionDenied("You cannot change this group's journey")
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
            audit.record(actor=actor, action="journey.evidence_updated", obj=locked,
                         organisation=locked.organisation, before=before, after=after)
    return locked
