"""Forms for the fund. They clean input (money to integer pence, exactly) and never change state:
views pass the cleaned data to fund.services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from mutualise.core.forms import GovUKForm, choice_field
from mutualise.fund.models import AffiliationKind, FundRound
from mutualise.fund.money import MoneyError, parse_pounds, pence_to_input
from mutualise.fund.rules import Question, criteria_template, eligibility_rules

DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%Y-%m-%d", "%d-%m-%Y"]
MAX_CRITERIA = 8


class MoneyInput(forms.TextInput):
    template_name = "fund/widgets/money.html"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, int):
            return pence_to_input(value)
        return super().format_value(value)


class MoneyField(forms.CharField):
    """Takes pounds and pence ("1,250.50"), gives integer pence. Refuses negatives and more than
    2 decimal places."""

    widget = MoneyInput

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if text in (None, ""):
            return None
        try:
            return parse_pounds(str(text))
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class PositiveMoneyField(MoneyField):
    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and value <= 0:
            raise forms.ValidationError("The amount must be more than £0")


class GovUKMoneyForm(GovUKForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, MoneyField):
                error = (
                    " govuk-input--error"
                    if "govuk-input--error" in field.widget.attrs.get("class", "")
                    else ""
                )
                field.widget.attrs["class"] = "govuk-input govuk-input--width-10" + error


class FundForm(GovUKForm):
    name = forms.CharField(max_length=200, label="Name of the fund")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Description",
        help_text="What the fund pays for.",
    )


class RoundForm(GovUKMoneyForm):
    name = forms.CharField(
        max_length=200, label="Name of the round", help_text="For example, Round 1 2027"
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Description"
    )
    opens_on = forms.DateField(
        input_formats=DATE_FORMATS,
        label="Opens on",
        help_text="The round opens at midnight at the start of this day. For example, 27/03/2027",
    )
    closes_on = forms.DateField(
        input_formats=DATE_FORMATS,
        label="Closes on",
        help_text="The round closes at 11:59pm on this day. For example, 30/06/2027",
    )
    budget_pence = PositiveMoneyField(
        label="Budget for the round", help_text="In pounds and pence, for example 250,000.00"
    )
    maximum_award_pence = PositiveMoneyField(label="Maximum award")
    eligibility_rules = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Eligibility rules",
        help_text="Choose the rules applicants must meet.",
    )
    years_since_go_live = forms.IntegerField(
        min_value=1,
        max_value=50,
        initial=5,
        label="Years since going live (rule E3)",
        help_text="A live mutual can apply within this many years of going live.",
    )
    minimum_words = forms.IntegerField(
        min_value=1, max_value=2000, initial=20, label="Minimum words in the growth case (rule E4)"
    )
    min_match_share_percent = forms.DecimalField(
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        required=False,
        label="Minimum cash match, as a percentage of project cost (rule E5)",
        help_text="Enter 0 for no minimum share. Required when rule E5 applies.",
    )
    subsidy_cap_pence = MoneyField(
        required=False,
        label="Subsidy cap over 3 fiscal years (rule E6)",
        help_text="The current limit under the subsidy control regime. Required when rule E6 "
        "applies.",
    )
    budget_reason = forms.CharField(
        required=False,
        max_length=300,
        label="Reason for a change of budget",
        help_text="Recorded in the ledger if the budget changes.",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "eligibility_rules").choices = [
            (rule.code, f"{rule.code}: {rule.title}") for rule in eligibility_rules().rules
        ]
        if not editing:
            del self.fields["budget_reason"]
        for i in range(MAX_CRITERIA):
            self.fields[f"criterion_{i}_title"] = forms.CharField(
                required=False, max_length=200, label=f"Criterion {i + 1} title"
            )
            self.fields[f"criterion_{i}_guidance"] = forms.CharField(
                required=False, max_length=1000, label=f"Criterion {i + 1} guidance for assessors"
            )
            self.fields[f"criterion_{i}_weight"] = forms.IntegerField(
                required=False, min_value=1, max_value=100, label=f"Criterion {i + 1} weight"
            )
        for name, field in self.fields.items():
            if name.startswith("criterion_") and name.endswith("_weight"):
                field.widget.attrs["class"] = "govuk-input govuk-input--width-3"
            if isinstance(field, forms.DecimalField):
                field.widget.attrs["class"] = "govuk-input govuk-input--width-5"
        self.fields["opens_on"].widget.attrs["class"] = "govuk-input govuk-input--width-10"
        self.fields["closes_on"].widget.attrs["class"] = "govuk-input govuk-input--width-10"

    def criterion_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "number": i + 1,
                "title": self[f"criterion_{i}_title"],
                "guidance": self[f"criterion_{i}_guidance"],
                "weight": self[f"criterion_{i}_weight"],
            }
            for i in range(MAX_CRITERIA)
        ]

    @staticmethod
    def initial_for(fund_round: FundRound | None) -> dict[str, Any]:
        import zoneinfo

        london = zoneinfo.ZoneInfo("Europe/London")
        if fund_round is None:
            initial: dict[str, Any] = {
                "eligibility_rules": list(eligibility_rules().codes),
                "years_since_go_live": 5,
                "minimum_words": 20,
            }
            criteria = [(c.title, c.guidance, c.weight) for c in criteria_template().criteria]
        else:
            initial = {
                "name": fund_round.name,
                "description": fund_round.description,
                "opens_on": fund_round.opens_at.astimezone(london).date(),
                "closes_on": (
                    fund_round.closes_at.astimezone(london) - dt.timedelta(seconds=1)
                ).date(),
                "budget_pence": fund_round.balance().budget,
                "maximum_award_pence": fund_round.maximum_award_pence,
                "eligibility_rules": list(fund_round.eligibility_rules),
                "years_since_go_live": fund_round.years_since_go_live,
                "minimum_words": fund_round.minimum_words,
                "min_match_share_percent": fund_round.min_match_share_percent,
                "subsidy_cap_pence": fund_round.subsidy_cap_pence,
            }
            criteria = [(c.title, c.guidance, c.weight) for c in fund_round.criteria.all()]
        for i, (title, guidance, weight) in enumerate(criteria[:MAX_CRITERIA]):
            initial[f"criterion_{i}_title"] = title
            initial[f"criterion_{i}_guidance"] = guidance
            initial[f"criterion_{i}_weight"] = weight
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns cleaned_data
        for i in range(MAX_CRITERIA):
            if data.get(f"criterion_{i}_title") and not data.get(f"criterion_{i}_weight"):
                self.add_error(
                    f"criterion_{i}_weight", f"Enter a weight for criterion {i + 1}, 1 or more"
                )
        rules = data.get("eligibility_rules") or []
        if "E5" in rules and data.get("min_match_share_percent") is None:
            self.add_error(
                "min_match_share_percent", "Enter the minimum cash match share (0 for no minimum)"
            )
        if (
            "E6" in rules
            and data.get("subsidy_cap_pence") is None
            and "subsidy_cap_pence" not in self.errors
        ):
            self.add_error("subsidy_cap_pence", "Enter the subsidy cap over 3 fiscal years")
        if data.get("opens_on") and data.get("closes_on") and data["closes_on"] < data["opens_on"]:
            self.add_error("closes_on", "The close date must be on or after the open date")
        return data

    def service_fields(self) -> dict[str, Any]:
        import zoneinfo

        london = zoneinfo.ZoneInfo("Europe/London")
        data = self.cleaned_data
        opens_at = dt.datetime.combine(data["opens_on"], dt.time(0), tzinfo=london)
        closes_at = dt.datetime.combine(
            data["closes_on"] + dt.timedelta(days=1), dt.time(0), tzinfo=london
        )
        criteria = []
        for i in range(MAX_CRITERIA):
            title = data.get(f"criterion_{i}_title")
            if title:
                criteria.append(
                    (
                        title,
                        data.get(f"criterion_{i}_guidance") or "",
                        data.get(f"criterion_{i}_weight"),
                    )
                )
        return {
            "name": data["name"],
            "description": data.get("description", ""),
            "opens_at": opens_at,
            "closes_at": closes_at,
            "budget_pence": data["budget_pence"],
            "maximum_award_pence": data["maximum_award_pence"],
            "eligibility_rules": list(data.get("eligibility_rules") or []),
            "years_since_go_live": data["years_since_go_live"],
            "minimum_words": data["minimum_words"],
            "min_match_share_percent": data.get("min_match_share_percent"),
            "subsidy_cap_pence": data.get("subsidy_cap_pence"),
            "criteria": criteria,
        }


YES_NO = [("yes", "Yes"), ("no", "No")]


def question_form(question: Question, data: Any = None, initial: Any = None) -> GovUKForm:
    """A one-question form for the applicant's page."""
    required_message = {"required": _required_message(question)}
    field: forms.Field
    if question.kind == "yes_no":
        field = forms.ChoiceField(
            choices=YES_NO, widget=forms.RadioSelect, error_messages=required_message
        )
    elif question.kind == "choice":
        field = forms.ChoiceField(
            choices=list(question.choices),
            widget=forms.RadioSelect,
            error_messages=required_message,
        )
    elif question.kind == "long_text":
        field = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 8}),
            max_length=10000,
            error_messages=required_message,
        )
    elif question.kind == "money":
        field = MoneyField(error_messages=required_message)
    elif question.kind == "date":
        field = forms.DateField(
            input_formats=DATE_FORMATS,
            error_messages={
                **required_message,
                "invalid": "Enter a real date, for example 01/04/2022",
            },
        )
    elif question.kind == "percent":
        field = forms.DecimalField(
            min_value=0, max_value=100, decimal_places=2, error_messages=required_message
        )
    else:
        field = forms.CharField(max_length=300, error_messages=required_message)
    field.label = question.label
    field.help_text = question.hint
    if question.kind == "date":
        field.help_text = question.hint or "For example, 01/04/2022"

    form_class = type("OneQuestionForm", (GovUKMoneyForm,), {"answer": field})
    return form_class(data=data, initial={"answer": initial} if initial is not None else None)


def _required_message(question: Question) -> str:
    if question.kind in {"yes_no", "choice"}:
        return "Select an answer"
    if question.kind == "money":
        return "Enter an amount in pounds and pence, or 0"
    if question.kind == "date":
        return "Enter the date"
    return "Enter your answer"


class UploadForm(GovUKForm):
    file = forms.FileField(
        label="Upload a file",
        help_text="PDF, DOCX or XLSX, up to 10 MB",
        error_messages={"required": "Select a file to upload"},
    )


class DeclarationForm(GovUKForm):
    full_name = forms.CharField(
        max_length=200, label="Your full name", error_messages={"required": "Enter your full name"}
    )
    confirm = forms.BooleanField(
        label="I agree to the declaration",
        error_messages={"required": "Confirm the declaration to submit the application"},
    )


class AnswerForm(GovUKForm):
    answer = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10000,
        label="Your answer",
        error_messages={"required": "Enter your answer"},
    )


class AssignForm(GovUKForm):
    assessor = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="Choose an assessor",
        error_messages={"required": "Select an assessor"},
    )

    def __init__(
        self, *args: Any, choices: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "assessor").choices = choices or []


class ApproveForm(GovUKMoneyForm):
    amount_pence = PositiveMoneyField(
        label="Amount to award", error_messages={"required": "Enter the amount to award"}
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Conditions or notes for the applicant",
    )


class RejectForm(GovUKForm):
    reasons = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Reasons",
        help_text="These are sent to the applicant.",
        error_messages={"required": "Give the reasons for rejecting"},
    )


class InformationRequestForm(GovUKForm):
    question = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Question for the applicant",
        error_messages={"required": "Enter the question"},
    )


class ModerateForm(GovUKForm):
    moderated_score = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Moderated score"
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Why the score is moderated"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scale = criteria_template()
        choice_field(self, "moderated_score").choices = [("", "Keep the assessor's score")] + [
            (str(n), f"{n} – {scale.labels.get(n, '')}")
            for n in range(scale.minimum, scale.maximum + 1)
        ]


class MilestoneForm(GovUKMoneyForm):
    title = forms.CharField(
        max_length=200, label="Milestone", help_text="For example, Business plan delivered"
    )
    amount_pence = PositiveMoneyField(label="Amount payable at this milestone")
    due_on = forms.DateField(
        input_formats=DATE_FORMATS,
        required=False,
        label="Due on",
        help_text="Optional. For example, 30/09/2027",
    )


class PaymentForm(GovUKMoneyForm):
    milestone = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="Milestone",
        error_messages={"required": "Select the milestone"},
    )
    amount_pence = PositiveMoneyField(label="Amount to pay")
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Evidence that the milestone was met",
        error_messages={"required": "Describe the evidence"},
    )
    file = forms.FileField(
        required=False, label="Evidence file (optional)", help_text="PDF, DOCX or XLSX, up to 10 MB"
    )

    def __init__(
        self, *args: Any, milestones: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "milestone").choices = milestones or []


class AdjustForm(GovUKMoneyForm):
    amount_pence = PositiveMoneyField(label="Amount")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason",
        error_messages={"required": "Give the reason"},
    )


class AffiliationForm(GovUKForm):
    user = forms.ChoiceField(label="Person")
    organisation = forms.ChoiceField(label="Organisation")
    relationship = forms.ChoiceField(
        choices=AffiliationKind.choices, widget=forms.RadioSelect, label="How are they linked?"
    )
    note = forms.CharField(max_length=300, required=False, label="Note")

    def __init__(self, *args: Any, users: Any = (), organisations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "user").choices = [("", "Choose a person"), *list(users)]
        choice_field(self, "organisation").choices = [
            ("", "Choose an organisation"),
            *list(organisations),
        ]


class EmailPreferenceForm(GovUKForm):
    emails = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="Which emails do you want?",
        choices=[
            ("all", "All emails, including receipts and reminders"),
            (
                "essential",
                "Only essential emails, such as decisions and questions about your application",
            ),
        ],
    )


class StartApplicationForm(GovUKForm):
    organisation = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="Which organisation are you applying for?",
        error_messages={"required": "Select an organisation"},
    )

    def __init__(self, *args: Any, organisations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "organisation").choices = [(str(o.pk), o.name) for o in organisations]
