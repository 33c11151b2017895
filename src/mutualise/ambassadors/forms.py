from __future__ import annotations

from typing import Any

from django import forms

from mutualise.ambassadors.matching_rules import load_rules
from mutualise.ambassadors.models import AmbassadorProfile, ConflictKind, PairRule
from mutualise.core.forms import GovUKForm
from mutualise.journeys.workflow import load_workflow
from mutualise.organisations.models import Organisation, OrganisationKind
from mutualise.organisations.reference import region_choices, sector_choices

DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%y"]
DATE_HINT = "For example, 27/03/2026"


def _date_field(label: str, required: bool = True, help_text: str = DATE_HINT) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        help_text=help_text,
        widget=forms.DateInput(format="%d/%m/%Y"),
        error_messages={
            "invalid": f"{label} must be a real date, for example 27/03/2026",
            "required": f"Enter the {label.lower()}",
        },
    )


def _topic_choices() -> list[tuple[str, str]]:
    return load_rules().topic_choices()


def _stage_choices() -> list[tuple[str, str]]:
    return [(s.code, s.staff_name) for s in load_workflow().stages if s.code != "WITHDRAWN"]


class ProfileForm(GovUKForm):
    leads_organisation = forms.ModelChoiceField(
        label="The mutual you lead",
        required=False,
        queryset=Organisation.objects.filter(
            kind__in=[OrganisationKind.MUTUAL, OrganisationKind.SOCIAL_ENTERPRISE]
        ),
        empty_label="Choose a mutual",
    )
    capacity = forms.IntegerField(
        label="How many groups can you support at once?",
        min_value=0,
        max_value=20,
        help_text="Enter 0 if you cannot take any groups for now.",
        error_messages={
            "required": "Enter how many groups you can support at once",
            "min_value": "How many groups must be 0 or more",
            "max_value": "How many groups must be 20 or fewer",
            "invalid": "How many groups must be a whole number, like 2",
        },
    )
    sectors = forms.MultipleChoiceField(
        label="Which sectors do you know?",
        choices=sector_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one sector you know"},
    )
    stages = forms.MultipleChoiceField(
        label="Which journey stages have you been through?",
        choices=_stage_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one journey stage"},
    )
    regions = forms.MultipleChoiceField(
        label="Which regions can you cover?",
        choices=region_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one region"},
    )
    topics_offered = forms.MultipleChoiceField(
        label="What can you help with?",
        choices=_topic_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    excluded_topics = forms.MultipleChoiceField(
        label="What do you not want to take on?",
        choices=_topic_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Groups that need these get a lower fit with you.",
    )
    does_not_want = forms.CharField(
        label="Anything else you do not want (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    available_from = _date_field(
        "Available from (optional)",
        required=False,
        help_text="Leave blank if you can take groups now. For example, 27/03/2026",
    )
    available_until = _date_field(
        "Available until (optional)",
        required=False,
        help_text="The last day you can take on a new group. Leave blank if there is no end date.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("available_from"), data.get("available_until")
        if start and end and end < start:
            self.add_error(
                "available_until", "Available until must be the same as or after available from"
            )
        both = set(data.get("topics_offered") or []) & set(data.get("excluded_topics") or [])
        if both:
            names = ", ".join(dict(_topic_choices())[c] for c in sorted(both))
            self.add_error(
                "excluded_topics",
                f"A topic cannot be both one you help with and one you do not want: {names}",
            )
        return data

    @classmethod
    def initial_from(cls, profile: AmbassadorProfile | None) -> dict[str, Any]:
        if profile is None:
            return {"capacity": 2}
        return {
            "leads_organisation": profile.leads_organisation_id,
            "capacity": profile.capacity,
            "sectors": profile.sectors,
            "stages": profile.stages,
            "regions": profile.regions,
            "topics_offered": profile.topics_offered,
            "excluded_topics": profile.excluded_topics,
            "does_not_want": profile.does_not_want,
            "available_from": profile.available_from,
            "available_until": profile.available_until,
        }


class AwayForm(GovUKForm):
    starts_on = _date_field("Away from")
    ends_on = _date_field("Back on")
    note = forms.CharField(label="Note (optional)", required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "Back on must be the same as or after away from")
        return data


class DeclineForm(GovUKForm):
    reason = forms.CharField(
        label="Why are you declining this group?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The programme team reads this to propose someone better.",
        error_messages={"required": "Enter why you are declining this group"},
    )


class EndForm(GovUKForm):
    reason = forms.CharField(
        label="Why is this match ending?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the match is ending"},
    )


class EngagementForm(GovUKForm):
    held_on = _date_field("Date of the meeting")
    topics = forms.MultipleChoiceField(
        label="What did you talk about?",
        choices=_topic_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one topic you talked about"},
    )
    actions_agreed = forms.CharField(
        label="Actions agreed",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter the actions agreed"},
    )
    notes = forms.CharField(
        label="Notes (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    follow_up_on = _date_field(
        "Follow-up date",
        required=False,
        help_text=f"When you will check in again (optional). {DATE_HINT}",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        held, follow = data.get("held_on"), data.get("follow_up_on")
        if held and follow and follow < held:
            self.add_error("follow_up_on", "The follow-up date must be on or after the meeting")
        return data


class RatingForm(GovUKForm):
    rating = forms.TypedChoiceField(
        label="How useful was this meeting?",
        coerce=int,
        choices=[
            (5, "5 – very useful"),
            (4, "4 – useful"),
            (3, "3 – somewhat useful"),
            (2, "2 – not very useful"),
            (1, "1 – not useful at all"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how useful the meeting was"},
    )
    comment = forms.CharField(
        label="Comments (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RequestForm(GovUKForm):
    note = forms.CharField(
        label="What would you like help with?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example, pensions advice, the business case, or bid writing.",
        error_messages={"required": "Enter what you would like help with"},
    )


class PairRuleForm(GovUKForm):
    organisation = forms.ModelChoiceField(
        label="Group",
        queryset=Organisation.objects.filter(
            kind__in=[OrganisationKind.STAFF_GROUP, OrganisationKind.MUTUAL]
        ),
        empty_label="Choose a group",
        error_messages={"required": "Choose a group"},
    )
    profile = forms.ModelChoiceField(
        label="Ambassador",
        queryset=AmbassadorProfile.objects.select_related("user"),
        empty_label="Choose an ambassador",
        error_messages={"required": "Choose an ambassador"},
    )
    rule = forms.ChoiceField(
        label="Pin or forbid",
        choices=[
            (PairRule.PIN, "Pin: always propose this pair"),
            (PairRule.FORBID, "Forbid: never propose this pair"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose pin or forbid"},
    )


class ConflictForm(GovUKForm):
    profile = forms.ModelChoiceField(
        label="Ambassador",
        queryset=AmbassadorProfile.objects.select_related("user"),
        empty_label="Choose an ambassador",
        error_messages={"required": "Choose an ambassador"},
    )
    organisation = forms.ModelChoiceField(
        label="Group",
        queryset=Organisation.objects.filter(
            kind__in=[OrganisationKind.STAFF_GROUP, OrganisationKind.MUTUAL]
        ),
        empty_label="Choose a group",
        error_messages={"required": "Choose a group"},
    )
    kind = forms.ChoiceField(
        label="Kind of conflict",
        choices=ConflictKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the kind of conflict"},
    )
    note = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=300,
        help_text="For example, the buyer and service both bid for.",
    )
