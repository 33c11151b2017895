"""Forms for the pipeline, moving a group, recording journey evidence and readiness answers."""

from __future__ import annotations

from typing import Any

from django import forms

from mutualise.core.forms import GovUKDateField, GovUKForm, choice_field, model_choice_field
from mutualise.journeys.models import Journey, OptionsAppraisalChoice, ProcurementRoute
from mutualise.journeys.readiness import Question
from mutualise.journeys.services import MEMBER_EVIDENCE_FIELDS
from mutualise.journeys.workflow import load_workflow
from mutualise.organisations.models import Organisation, OrganisationKind
from mutualise.organisations.reference import region_choices, sector_choices

ANY = [("", "Any")]


class PipelineFilterForm(GovUKForm):
    """Filters for the pipeline, read from the query string so a filtered view is a link."""

    sector = forms.ChoiceField(required=False, label="Sector")
    region = forms.ChoiceField(required=False, label="Region")
    parent_body = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        label="Parent body",
        empty_label="Any",
    )
    stage = forms.ChoiceField(required=False, label="Stage")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "sector").choices = ANY + sector_choices()
        choice_field(self, "region").choices = ANY + region_choices()
        choice_field(self, "stage").choices = ANY + [
            (s.code, s.staff_name) for s in load_workflow().stages
        ]
        model_choice_field(self, "parent_body").queryset = Organisation.objects.filter(
            kind=OrganisationKind.PUBLIC_BODY
        ).only("id", "name")
        self.fields["parent_body"].error_messages["invalid_choice"] = (
            "Select a parent body from the list"
        )
        for name in ("sector", "region", "stage"):
            self.fields[name].error_messages["invalid_choice"] = (
                f"Select a {str(self.fields[name].label).lower()} in the list"
            )


class MoveForm(GovUKForm):
    target = forms.ChoiceField(
        label="Move this group to",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the stage to move the group to",
            "invalid_choice": "Select one of the stages listed",
        },
    )
    note = forms.CharField(
        label="Note for the record (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="For example the meeting or document that confirmed the move.",
    )

    def __init__(self, *args: Any, journey: Journey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        workflow = load_workflow()
        choice_field(self, "target").choices = [
            (code, workflow.stage(code).staff_name)
            for code in workflow.allowed_targets(journey.stage)
        ]


def _choices(choices: list[tuple[str, str]], blank: str = "Not recorded") -> list[tuple[str, str]]:
    return [("", blank), *choices]


class EvidenceForm(GovUKForm):
    """Journey evidence. Officers see every field; members only MEMBER_EVIDENCE_FIELDS."""

    senior_sponsor_name = forms.CharField(
        label="Senior sponsor's name",
        required=False,
        max_length=200,
        help_text="The senior person in the parent body who backs the spin-out.",
    )
    senior_sponsor_role = forms.CharField(
        label="Senior sponsor's role", required=False, max_length=200
    )
    options_appraisal_choice = forms.ChoiceField(
        label="Option chosen by the options appraisal",
        required=False,
        choices=_choices(OptionsAppraisalChoice.choices),
    )
    business_case_completed_on = GovUKDateField(
        label="Date the full business case was completed",
        required=False,
        help_text="For example, 27 3 2026",
    )
    parent_body_decision_date = GovUKDateField(
        label="Date of the parent body's decision",
        required=False,
        help_text="The cabinet or board meeting that approved the spin-out.",
    )
    parent_body_decision_reference = forms.CharField(
        label="Reference for the decision",
        required=False,
        max_length=200,
        help_text="For example the minute or report number.",
    )
    procurement_route = forms.ChoiceField(
        label="Procurement route", required=False, choices=_choices(ProcurementRoute.choices)
    )
    service_contract_reference = forms.CharField(
        label="Service contract reference", required=False, max_length=200
    )
    service_contract_start = GovUKDateField(label="Service contract start date", required=False)
    contract_end_date = GovUKDateField(label="Anchor contract end date", required=False)
    shadow_operation_started_on = GovUKDateField(
        label="Date shadow operation started", required=False
    )
    diversification_plan = forms.CharField(
        label="Plan for growing and diversifying income",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    retender_outcome = forms.ChoiceField(label="Re-tender outcome", required=False)
    stated_needs = forms.CharField(
        label="What help does the group need?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example legal advice on the transfer, or a mentor who has run a mutual.",
    )
    needs_ambassador = forms.TypedChoiceField(
        label="Would the group like an ambassador to mentor it?",
        choices=[("True", "Yes"), ("False", "No")],
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if the group would like an ambassador"},
    )

    def __init__(self, *args: Any, member_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "retender_outcome").choices = _choices(list(load_workflow().outcomes))
        if member_only:
            for name in list(self.fields):
                if name not in MEMBER_EVIDENCE_FIELDS:
                    del self.fields[name]

    @classmethod
    def initial_for(cls, journey: Journey) -> dict[str, Any]:
        initial = {name: getattr(journey, name) for name in cls.base_fields}
        initial["needs_ambassador"] = str(journey.needs_ambassador)
        return initial

    def changes(self, journey: Journey) -> dict[str, Any]:
        """Only what differs from the journey as it is, so the audit log shows real changes."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if getattr(journey, name) != value
        }


class ReadinessAnswerForm(GovUKForm):
    answer = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args: Any, question: Question, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = choice_field(self, "answer")
        field.label = question.text
        field.help_text = question.hint
        field.choices = [(option.code, option.label) for option in question.options]
        field.error_messages = {
            "required": "Select the answer that fits your group best",
            "invalid_choice": "Select one of the answers listed",
        }
