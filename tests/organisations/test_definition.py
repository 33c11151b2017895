"""The versioned public service mutual definition. Pure: no database."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from mutualise.organisations import definition
from mutualise.organisations.definition import MutualFacts, evaluate
from mutualise.rules import RulesError

SPUN_OUT = MutualFacts(
    left_public_sector=True,
    delivers_public_services=True,
    has_social_mission=True,
    staff_vote_share_percent=Decimal("30"),
    staff_board_seats=None,
    board_seats=None,
    employee_trust_stake_percent=None,
)
NOTHING_KNOWN = MutualFacts(None, None, None, None, None, None, None)


def criterion(verdict, code):
    return next(c for c in verdict.criteria if c.code == code)


def test_current_version_is_named_on_every_verdict():
    verdict = evaluate(SPUN_OUT)
    assert verdict.definition_version == definition.current_version() == "uk-government-2011"
    assert verdict.definition_title
    assert verdict.is_mutual
    assert [c.code for c in verdict.criteria] == [
        "left_public_sector",
        "delivers_public_services",
        "significant_staff_control",
    ]


def test_each_criterion_fails_on_its_own_with_a_reason():
    still_public = evaluate(replace(SPUN_OUT, left_public_sector=False))
    assert not still_public.is_mutual
    assert criterion(still_public, "left_public_sector").reason == "Still part of the public sector"
    no_services = evaluate(replace(SPUN_OUT, delivers_public_services=False))
    assert not no_services.is_mutual
    assert [c.code for c in no_services.failed] == ["delivers_public_services"]
    low_control = evaluate(replace(SPUN_OUT, staff_vote_share_percent=Decimal("10")))
    assert not low_control.is_mutual
    assert "needs 25" in criterion(low_control, "significant_staff_control").reason


def test_unknown_facts_are_not_recorded_yet_and_do_not_pass():
    verdict = evaluate(NOTHING_KNOWN)
    assert not verdict.is_mutual
    assert {c.reason for c in verdict.criteria} == {
        "Not recorded yet",
        "No employee control recorded yet",
    }


@pytest.mark.parametrize(
    ("facts", "passed"),
    [
        ({"staff_vote_share_percent": Decimal("25")}, True),  # the threshold itself counts
        ({"staff_vote_share_percent": Decimal("24.99")}, False),
        ({"staff_board_seats": 2, "board_seats": 8}, True),  # 25%
        ({"staff_board_seats": 1, "board_seats": 8}, False),
        ({"staff_board_seats": 2, "board_seats": 0}, False),  # no board: seats cannot count
        ({"employee_trust_stake_percent": Decimal("27.5")}, True),  # e.g. an employee trust
        ({"employee_trust_stake_percent": Decimal("20")}, False),
        # any one route is enough
        (
            {
                "staff_vote_share_percent": Decimal("5"),
                "employee_trust_stake_percent": Decimal("25"),
            },
            True,
        ),
    ],
)
def test_staff_control_routes(facts, passed):
    base = replace(SPUN_OUT, staff_vote_share_percent=None)
    result = criterion(evaluate(replace(base, **facts)), "significant_staff_control")
    assert result.passed is passed
    assert result.reason


def test_threshold_override_is_a_programme_setting():
    facts = replace(SPUN_OUT, staff_vote_share_percent=Decimal("30"))
    assert evaluate(facts).is_mutual
    stricter = evaluate(facts, overrides={"min_staff_vote_share_percent": 50})
    assert not stricter.is_mutual
    assert "needs 50" in criterion(stricter, "significant_staff_control").reason
    looser = evaluate(
        replace(facts, staff_vote_share_percent=Decimal("15")),
        overrides={"min_staff_vote_share_percent": "15"},
    )
    assert looser.is_mutual


def test_unknown_threshold_override_is_refused():
    with pytest.raises(RulesError):
        evaluate(SPUN_OUT, overrides={"min_pizza_percent": 10})


def test_the_2019_proposal_drops_public_sector_origin_and_tightens_control():
    version = "dcms-2019-proposal"
    still_in = replace(SPUN_OUT, left_public_sector=False, staff_vote_share_percent=Decimal("60"))
    verdict = evaluate(still_in, version)
    assert verdict.definition_version == version
    assert verdict.is_mutual
    assert "left_public_sector" not in {c.code for c in verdict.criteria}
    assert not evaluate(SPUN_OUT, version).is_mutual  # 30% is not enough at 50%
    assert not evaluate(replace(still_in, has_social_mission=False), version).is_mutual


def test_versions_are_all_loaded():
    assert set(definition.definitions()) == {"uk-government-2011", "dcms-2019-proposal"}
