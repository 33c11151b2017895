"""Forms for organisations: filters, identifiers, facts (incl. employee control), new records."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from mutualise.core.forms import GovUKDateField, GovUKForm, choice_field, model_choice_field
from mutualise.organisations.identifiers import schemes
from mutualise.organisations.models import LegalForm, Organisation, OrganisationKind
from mutualise.organisations.reference import (
    public_body_type_choices,
    region_choices,
    sector_choices,
)
from mutualise.organisations.services import STAFF_SEATS_MESSAGE

ANY = [("", "Any")]
NOT_RECORDED = [("", "Not recorded")]


def public_bodies() -> Any:
    return Organisation.objects.filter(kind=OrganisationKind.PUBLIC_BODY).only("id", "name")


class OrganisationFilterForm(GovUKForm):
    q = forms.CharField(label="Name contains", required=False, max_length=200)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=ANY + list(OrganisationKind.choices)
    )
    sector = forms.ChoiceField(label="Sector", required=False)
    region = forms.ChoiceField(label="Region", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "sector").choices = ANY + sector_choices()
        choice_field(self, "region").choices = ANY + region_choices()
        for name in ("kind", "sector", "region"):
            self.fields[name].error_messages["invalid_choice"] = (
                f"Select a {str(self.fields[name].label).lower()} in the list"
            )


class IdentifierForm(GovUKForm):
    scheme = forms.ChoiceField(label="Register", error_messages={"required": "Select the register"})
    value = forms.CharField(
        label="Identifier",
        max_length=40,
        error_messages={"required": "Enter the identifier"},
        help_text="As the register prints it. For example a Companies House number: 04142000.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "scheme").choices = [("", "Select a register")] + [
            (code, f"{scheme.name} ({code})") for code, scheme in schemes().items()
        ]
        self.fields["scheme"].error_messages["invalid_choice"] = "Select a register from the list"


def yes_no_unknown(label: str, help_text: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        required=False,
        choices=[("True", "Yes"), ("False", "No"), ("", "Not known")],
        coerce=lambda value: value == "True",
        empty_value=None,
        widget=forms.RadioSelect,
    )


def parse_pounds(text: str) -> int | None:
    """'1,250.50' or '£1250.5' → 125050 pence, exactly. Raises ValidationError otherwise."""
    cleaned = text.strip().replace(",", "").removeprefix("£").strip()
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise forms.ValidationError("Enter an amount in pounds, like 1250 or 1,250.50") from None
    if not amount.is_finite():
        raise forms.ValidationError("Enter an amount in pounds, like 1250 or 1,250.50")
    if amount < 0:
        raise forms.ValidationError("Amount cannot be negative")
    if amount >= 10**13:  # £10 trillion; bigger ones make quantize fail and fit no database
        raise forms.ValidationError("Amount is too large")
    if amount != amount.quantize(Decimal("0.01")):
        raise forms.ValidationError("Amount cannot have more than 2 decimal places (pence)")
    return int(amount * 100)


def format_pounds(pence: int | None) -> str:
    if pence is None:
        return ""
    return f"{Decimal(pence) / 100:,.2f}"


PERCENT: dict[str, Any] = {
    "max_digits": 5,
    "decimal_places": 2,
    "min_value": 0,
    "max_value": 100,
    "required": False,
}


class OrganisationForm(GovUKForm):
    name = forms.CharField(
        label="Name", max_length=300, error_messages={"required": "Enter the organisation's name"}
    )
    kind = forms.ChoiceField(label="Kind of organisation", choices=OrganisationKind.choices)
    public_body_type = forms.ChoiceField(label="Type of public body", required=False)
    legal_form = forms.ChoiceField(label="Legal form", choices=LegalForm.choices)
    parent_body = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        label="Parent body",
        empty_label="None",
        help_text="The public body the group came from.",
    )
    sector = forms.ChoiceField(label="Sector", required=False)
    region = forms.ChoiceField(label="Region", required=False)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    services_delivered = forms.CharField(
        label="Services delivered", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    delivers_in_england = yes_no_unknown("Does it deliver services in England?")
    left_public_sector = yes_no_unknown("Has it left the public sector (spun out)?")
    delivers_public_services = yes_no_unknown(
        "Does it deliver public services with a positive social impact?"
    )
    has_social_mission = yes_no_unknown("Does it have a clear social mission?")
    spun_out_on = GovUKDateField(
        label="Date it spun out", required=False, help_text="For example, 1 4 2012"
    )
    # The maxima are the database columns' (PositiveInteger, PositiveSmallInteger): a bigger
    # number would pass the form and fail on saving.
    staff_count = forms.IntegerField(
        label="Number of staff", required=False, min_value=0, max_value=2_147_483_647
    )
    annual_income = forms.CharField(
        label="Annual income, in pounds",
        required=False,
        max_length=30,
        help_text="For example, 1,250,000 or 1250000.50",
    )
    staff_vote_share_percent = forms.DecimalField(
        label="Share of votes held by staff (%)",
        **PERCENT,
        help_text="For example staff members' share of votes at general meetings.",
    )
    staff_board_seats = forms.IntegerField(
        label="Board seats held by staff", required=False, min_value=0, max_value=32_767
    )
    board_seats = forms.IntegerField(
        label="Board seats in total", required=False, min_value=0, max_value=32_767
    )
    employee_trust_stake_percent = forms.DecimalField(
        label="Stake held by an employee trust (%)",
        **PERCENT,
    )

    EMPLOYEE_CONTROL = (
        "staff_vote_share_percent",
        "staff_board_seats",
        "board_seats",
        "employee_trust_stake_percent",
    )
    PUBLIC_BODY_FIELDS = ("name", "public_body_type", "region", "description")

    def __init__(self, *args: Any, organisation: Organisation | None = None, **kwargs: Any) -> None:
        self.organisation = organisation
        super().__init__(*args, **kwargs)
        choice_field(self, "sector").choices = NOT_RECORDED + sector_choices()
        choice_field(self, "region").choices = NOT_RECORDED + region_choices()
        choice_field(self, "public_body_type").choices = NOT_RECORDED + public_body_type_choices()
        bodies = public_bodies()
        if organisation is not None:
            bodies = bodies.exclude(pk=organisation.pk)
        model_choice_field(self, "parent_body").queryset = bodies
        is_public_body = organisation is not None and organisation.kind == "public_body"
        if is_public_body:
            for name in list(self.fields):
                if name not in self.PUBLIC_BODY_FIELDS:
                    del self.fields[name]
        else:
            del self.fields["public_body_type"]

    @classmethod
    def initial_for(cls, organisation: Organisation) -> dict[str, Any]:
        initial = {
            name: getattr(organisation, name)
            for name in cls.base_fields
            if name != "annual_income" and hasattr(organisation, name)
        }
        initial["parent_body"] = organisation.parent_body_id
        initial["annual_income"] = format_pounds(organisation.annual_income_pence)
        for name in (
            "delivers_in_england",
            "left_public_sector",
            "delivers_public_services",
            "has_social_mission",
        ):
            value = getattr(organisation, name)
            initial[name] = "" if value is None else str(value)
        return initial

    def clean_annual_income(self) -> int | None:
        return parse_pounds(self.cleaned_data.get("annual_income") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seats, board = data.get("staff_board_seats"), data.get("board_seats")
        if seats is not None and board is not None and seats > board:
            self.add_error("staff_board_seats", STAFF_SEATS_MESSAGE)
        return data

    def facts(self) -> dict[str, Any]:
        """Cleaned data named as the model names it."""
        data = dict(self.cleaned_data)
        if "annual_income" in data:
            data["annual_income_pence"] = data.pop("annual_income")
        return data

    def changes(self, organisation: Organisation) -> dict[str, Any]:
        return {k: v for k, v in self.facts().items() if getattr(organisation, k) != v}


class StaffGroupForm(GovUKForm):
    name = forms.CharField(
        label="Name of the staff group",
        max_length=300,
        error_messages={"required": "Enter the name of the staff group"},
        help_text="For example, Anytown Community Health Team.",
    )
    parent_body = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label="Parent body",
        empty_label="Select a public body",
        error_messages={
            "required": "Select the public body the group works for",
            "invalid_choice": "Select a public body from the list",
        },
    )
    sector = forms.ChoiceField(label="Sector", required=False)
    region = forms.ChoiceField(label="Region", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "parent_body").queryset = public_bodies()
        choice_field(self, "sector").choices = NOT_RECORDED + sector_choices()
        choice_field(self, "region").choices = NOT_RECORDED + region_choices()


class PublicBodyForm(GovUKForm):
    name = forms.CharField(
        label="Name of the public body",
        max_length=300,
        error_messages={"required": "Enter the name of the public body"},
    )
    public_body_type = forms.ChoiceField(
        label="Type of public body",
        error_messages={"required": "Select the type of public body"},
    )
    region = forms.ChoiceField(label="Region", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "public_body_type").choices = [
            ("", "Select a type"),
            *public_body_type_choices(),
        ]
        choice_field(self, "region").choices = NOT_RECORDED + region_choices()
