from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()
RISK_TAGS = {"high": "govuk-tag--red", "medium": "govuk-tag--orange", "low": "govuk-tag--green"}
OUTCOME_TAGS = {
    "RETAINED": "govuk-tag--green",
    "LOST_TO_LARGE_PRIVATE": "govuk-tag--red",
    "LOST_TO_SME_OR_VCSE": "govuk-tag--orange",
    "LOST_TO_PUBLIC_BODY": "govuk-tag--orange",
    "INSOURCED": "govuk-tag--purple",
    "EXTENDED": "govuk-tag--blue",
    "PENDING": "govuk-tag--yellow",
}
STATUS_TAGS = {
    "pass": "govuk-tag--green",
    "fail": "govuk-tag--red",
    "unknown": "govuk-tag--orange",
    "not_checked": "govuk-tag--grey",
}


@register.filter
def pounds(pence: int | None) -> str:
    if pence is None:
        return "Not published"
    value = (Decimal(pence) / 100).quantize(Decimal("1"))
    return f"£{value:,}"


@register.filter
def risk_tag(level: str) -> str:
    return RISK_TAGS.get(level, "govuk-tag--grey")


@register.filter
def outcome_tag(outcome: str) -> str:
    return OUTCOME_TAGS.get(outcome, "govuk-tag--grey")


@register.filter
def status_tag(status: str) -> str:
    return STATUS_TAGS.get(status, "govuk-tag--grey")
