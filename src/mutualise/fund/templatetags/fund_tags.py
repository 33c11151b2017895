from __future__ import annotations

from typing import Any

from django import template

from mutualise.fund.money import format_pence
from mutualise.fund.rules import application_form

register = template.Library()


@register.filter
def pounds(pence: Any) -> str:
    return format_pence(pence)


@register.filter
def staff_status(code: str) -> str:
    return application_form().status(code).staff_name


@register.filter
def applicant_status(code: str) -> str:
    return application_form().status(code).applicant_name


@register.filter
def status_tag(code: str) -> str:
    return application_form().status(code).tag


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if mapping else None
