"""Evidence checks that gate journey moves. Pure functions over a plain snapshot of a journey.

Each check answers (passed, what is missing). The names are what rules/journey.yaml refers to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class JourneySnapshot:
    senior_sponsor_name: str
    options_appraisal_choice: str
    business_case_completed_on: date | None
    parent_body_decision_date: date | None
    legal_form: str
    register_identifiers: tuple[str, ...]
    has_employee_control: bool
    procurement_route: str
    service_contract_reference: str
    shadow_operation_started_on: date | None
    diversification_plan: str
    contract_end_date: date | None
    retender_outcome: str


@dataclass(frozen=True)
class CheckResult:
    code: str
    passed: bool
    message: str


def _result(code: str, passed: bool, missing: str) -> CheckResult:
    return CheckResult(code, passed, "" if passed else missing)


def senior_sponsor(s: JourneySnapshot) -> CheckResult:
    return _result(
        "senior_sponsor",
        bool(s.senior_sponsor_name.strip()),
        "Record the senior sponsor in the parent body before leaving Explore.",
    )


def options_appraisal_chose_mutual(s: JourneySnapshot) -> CheckResult:
    return _result(
        "options_appraisal_chose_mutual",
        s.options_appraisal_choice == "mutual",
        "Record an options appraisal that chose the mutual route.",
    )


def business_case_completed(s: JourneySnapshot) -> CheckResult:
    return _result(
        "business_case_completed",
        s.business_case_completed_on is not None,
        "Record the date the full business case was completed.",
    )


def parent_body_decision_date(s: JourneySnapshot) -> CheckResult:
    return _result(
        "parent_body_decision_date",
        s.parent_body_decision_date is not None,
        "Record the date of the parent body's decision to approve the spin-out.",
    )


def legal_entity_registered(s: JourneySnapshot) -> CheckResult:
    passed = s.legal_form not in {"", "none", "public_body"} and bool(s.register_identifiers)
    return _result(
        "legal_entity_registered",
        passed,
        "Record the new organisation's legal form and its register identifier "
        "(for example a Companies House number).",
    )


def employee_control_recorded(s: JourneySnapshot) -> CheckResult:
    return _result(
        "employee_control_recorded",
        s.has_employee_control,
        "Record how staff control the organisation (share of votes, board seats or "
        "employee trust stake).",
    )


def procurement_route_chosen(s: JourneySnapshot) -> CheckResult:
    return _result(
        "procurement_route_chosen",
        bool(s.procurement_route),
        "Record the procurement route: direct award, competition or reservation.",
    )


def service_contract_recorded(s: JourneySnapshot) -> CheckResult:
    return _result(
        "service_contract_recorded",
        bool(s.service_contract_reference.strip()),
        "Record the service contract with the parent body.",
    )


def shadow_operation_started(s: JourneySnapshot) -> CheckResult:
    return _result(
        "shadow_operation_started",
        s.shadow_operation_started_on is not None,
        "Record the date shadow operation started.",
    )


def diversification_plan_recorded(s: JourneySnapshot) -> CheckResult:
    return _result(
        "diversification_plan_recorded",
        bool(s.diversification_plan.strip()),
        "Record the plan for growing and diversifying income.",
    )


def contract_end_date_recorded(s: JourneySnapshot) -> CheckResult:
    return _result(
        "contract_end_date_recorded",
        s.contract_end_date is not None,
        "Record the end date of the anchor contract.",
    )


def retender_outcome_recorded(s: JourneySnapshot) -> CheckResult:
    return _result(
        "retender_outcome_recorded", bool(s.retender_outcome), "Record what happened at re-tender."
    )


CHECKS: dict[str, Callable[[JourneySnapshot], CheckResult]] = {
    fn.__name__: fn
    for fn in (
        senior_sponsor,
        options_appraisal_chose_mutual,
        business_case_completed,
        parent_body_decision_date,
        legal_entity_registered,
        employee_control_recorded,
        procurement_route_chosen,
        service_contract_recorded,
        shadow_operation_started,
        diversification_plan_recorded,
        contract_end_date_recorded,
        retender_outcome_recorded,
    )
}


def run_checks(codes: tuple[str, ...], snapshot: JourneySnapshot) -> list[CheckResult]:
    return [CHECKS[code](snapshot) for code in codes]
