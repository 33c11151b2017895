"""The journey workflow rules (rules/journey.yaml + journeys/evidence.py). Pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from mutualise.journeys.evidence import CHECKS, JourneySnapshot, run_checks
from mutualise.journeys.workflow import load_workflow, required_checks

EMPTY = JourneySnapshot(
    senior_sponsor_name="",
    options_appraisal_choice="",
    business_case_completed_on=None,
    parent_body_decision_date=None,
    legal_form="none",
    register_identifiers=(),
    has_employee_control=False,
    procurement_route="",
    service_contract_reference="",
    shadow_operation_started_on=None,
    diversification_plan="",
    contract_end_date=None,
    retender_outcome="",
)
FULL = JourneySnapshot(
    senior_sponsor_name="Director of Adult Services",
    options_appraisal_choice="mutual",
    business_case_completed_on=date(2025, 3, 1),
    parent_body_decision_date=date(2025, 5, 1),
    legal_form="cic_guarantee",
    register_identifiers=("GB-COH-04142000",),
    has_employee_control=True,
    procurement_route="direct_award",
    service_contract_reference="CONTRACT-1",
    shadow_operation_started_on=date(2025, 9, 1),
    diversification_plan="Bid for two neighbouring councils' contracts",
    contract_end_date=date(2030, 3, 31),
    retender_outcome="RETAINED",
)

# Every forward move and the evidence it needs: a change to journey.yaml must change this table.
EXPECTED = {
    ("EXPLORE", "OPTIONS_APPRAISAL"): {"senior_sponsor"},
    ("OPTIONS_APPRAISAL", "BUSINESS_CASE"): {"options_appraisal_chose_mutual"},
    ("BUSINESS_CASE", "PARENT_BODY_DECISION"): {"business_case_completed"},
    ("PARENT_BODY_DECISION", "LEGAL_FORM_AND_GOVERNANCE"): {"parent_body_decision_date"},
    ("LEGAL_FORM_AND_GOVERNANCE", "CONTRACT_AND_TRANSFER"): {
        "legal_entity_registered",
        "employee_control_recorded",
    },
    ("CONTRACT_AND_TRANSFER", "SHADOW_OPERATION"): {
        "procurement_route_chosen",
        "service_contract_recorded",
    },
    ("CONTRACT_AND_TRANSFER", "LIVE"): {
        "procurement_route_chosen",
        "service_contract_recorded",
        "legal_entity_registered",
    },
    ("SHADOW_OPERATION", "LIVE"): {
        "shadow_operation_started",
        "legal_entity_registered",
        "service_contract_recorded",
    },
    ("LIVE", "GROW_AND_DIVERSIFY"): set(),
    ("LIVE", "RETENDER"): set(),
    ("GROW_AND_DIVERSIFY", "RETENDER"): {"diversification_plan_recorded"},
    ("RETENDER", "OUTCOME"): {"contract_end_date_recorded", "retender_outcome_recorded"},
}


def test_every_forward_move_is_listed():
    workflow = load_workflow()
    moves = {(s.code, t) for s in workflow.stages for t in s.next}
    assert moves == set(EXPECTED)


@pytest.mark.parametrize(("source", "target"), sorted(EXPECTED))
def test_each_move_needs_exactly_its_evidence(source, target):
    assert set(required_checks(source, target)) == EXPECTED[(source, target)]
    failed = {c.code for c in run_checks(required_checks(source, target), EMPTY) if not c.passed}
    assert failed == EXPECTED[(source, target)]
    assert all(c.passed for c in run_checks(required_checks(source, target), FULL))


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_each_check_says_what_to_record_when_it_fails(code):
    failed = CHECKS[code](EMPTY)
    assert not failed.passed
    assert failed.message.startswith("Record ")
    passed = CHECKS[code](FULL)
    assert passed.passed and passed.message == ""


def test_legal_entity_needs_a_form_and_a_register_identifier():
    check = CHECKS["legal_entity_registered"]
    assert not check(replace(FULL, register_identifiers=())).passed
    assert not check(replace(FULL, legal_form="none")).passed
    assert not check(replace(FULL, legal_form="public_body")).passed
    assert check(FULL).passed


def test_options_appraisal_must_choose_the_mutual():
    check = CHECKS["options_appraisal_chose_mutual"]
    assert not check(replace(FULL, options_appraisal_choice="outsourcing")).passed


def test_blank_sponsor_does_not_count():
    assert not CHECKS["senior_sponsor"](replace(FULL, senior_sponsor_name="   ")).passed


def test_withdrawal_is_open_before_live_and_needs_no_evidence():
    workflow = load_workflow()
    for code in workflow.pipeline_stages:
        assert "WITHDRAWN" in workflow.allowed_targets(code)
        assert required_checks(code, "WITHDRAWN") == ()
    for code in (*workflow.live_stages, "WITHDRAWN"):
        assert "WITHDRAWN" not in workflow.allowed_targets(code)


def test_live_entry_requirements_apply_from_every_way_in():
    workflow = load_workflow()
    assert set(workflow.stage("LIVE").entry_requires) == {
        "legal_entity_registered",
        "service_contract_recorded",
    }
    for stage in workflow.stages:
        if "LIVE" in stage.next:
            assert {"legal_entity_registered", "service_contract_recorded"} <= set(
                required_checks(stage.code, "LIVE")
            )


def test_last_stages_go_nowhere():
    workflow = load_workflow()
    assert workflow.allowed_targets("OUTCOME") == ()
    assert workflow.allowed_targets("WITHDRAWN") == ()


def test_every_stage_has_staff_and_applicant_names():
    for stage in load_workflow().stages:
        assert stage.staff_name and stage.applicant_name and stage.needs
