from __future__ import annotations

from django.db import models
from django.urls import reverse
from django_fsm import RETURN_VALUE, FSMField, transition

from mutualise.journeys.evidence import JourneySnapshot
from mutualise.journeys.workflow import load_workflow, stage_choices
from mutualise.organisations.models import Organisation

REGISTER_SCHEMES = ("GB-COH", "GB-MPR", "GB-CHC", "GB-SC", "GB-NIC")


class OptionsAppraisalChoice(models.TextChoices):
    IN_HOUSE = "in_house", "Keep the service in-house"
    COUNCIL_COMPANY = "council_company", "A company owned by the council"
    OUTSOURCING = "outsourcing", "Outsource the service"
    MUTUAL = "mutual", "Spin out as a mutual"


class ProcurementRoute(models.TextChoices):
    DIRECT_AWARD = "direct_award", "Direct award"
    COMPETITION = "competition", "Competition"
    RESERVATION = "reservation", "Competition reserved for mutuals"


class Journey(models.Model):
    """One staff group's way from exploring a spin-out to live and beyond."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="journey"
    )
    # protected: only journeys.services moves a journey, through the transition below.
    stage = FSMField(default="EXPLORE", choices=stage_choices(), protected=True, db_index=True)
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    started_on = models.DateField(null=True, blank=True)
    senior_sponsor_name = models.CharField(max_length=200, blank=True)
    senior_sponsor_role = models.CharField(max_length=200, blank=True)
    options_appraisal_choice = models.CharField(
        max_length=32, choices=OptionsAppraisalChoice.choices, blank=True
    )
    business_case_completed_on = models.DateField(null=True, blank=True)
    parent_body_decision_date = models.DateField(null=True, blank=True)
    parent_body_decision_reference = models.CharField(max_length=200, blank=True)
    procurement_route = models.CharField(
        max_length=32, choices=ProcurementRoute.choices, blank=True
    )
    service_contract_reference = models.CharField(max_length=200, blank=True)
    service_contract_start = models.DateField(null=True, blank=True)
    contract_end_date = models.DateField(null=True, blank=True)
    shadow_operation_started_on = models.DateField(null=True, blank=True)
    go_live_date = models.DateField(null=True, blank=True)
    diversification_plan = models.TextField(blank=True)
    retender_outcome = models.CharField(max_length=32, blank=True)
    needs_ambassador = models.BooleanField(default=True)
    stated_needs = models.TextField(blank=True, help_text="What help the group says it needs.")

    class Meta:
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.stage_name})"

    def get_absolute_url(self) -> str:
        return reverse("journeys:detail", args=[self.pk])

    @property
    def stage_name(self) -> str:
        return load_workflow().stage(self.stage).staff_name

    @property
    def applicant_stage_name(self) -> str:
        return load_workflow().stage(self.stage).applicant_name

    @transition(field=stage, source="*", target=RETURN_VALUE(*[c for c, _ in stage_choices()]))
    def move(self, target: str) -> str:
        """The only way the stage changes. journeys.services checks rules before calling it."""
        return target

    def snapshot(self) -> JourneySnapshot:
        organisation = self.organisation
        identifiers = tuple(
            i.prefixed for i in organisation.identifiers.all() if i.scheme in REGISTER_SCHEMES
        )
        has_control = any(
            value is not None
            for value in (
                organisation.staff_vote_share_percent,
                organisation.staff_board_seats,
                organisation.employee_trust_stake_percent,
            )
        )
        return JourneySnapshot(
            senior_sponsor_name=self.senior_sponsor_name,
            options_appraisal_choice=self.options_appraisal_choice,
            business_case_completed_on=self.business_case_completed_on,
            parent_body_decision_date=self.parent_body_decision_date,
            legal_form=organisation.legal_form,
            register_identifiers=identifiers,
            has_employee_control=has_control,
            procurement_route=self.procurement_route,
            service_contract_reference=self.service_contract_reference,
            shadow_operation_started_on=self.shadow_operation_started_on,
            diversification_plan=self.diversification_plan,
            contract_end_date=self.contract_end_date,
            retender_outcome=self.retender_outcome,
        )


class ReadinessAssessment(models.Model):
    """One attempt at the readiness self-assessment. Earlier attempts are kept for comparison."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="assessments")
    started_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    questionnaire_version = models.CharField(max_length=40)
    answers = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Scores per theme at submission.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Readiness assessment {self.pk} for {self.journey.organisation}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None
