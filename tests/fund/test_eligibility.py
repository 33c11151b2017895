"""Eligibility is a pure function: these tests need no database."""

import datetime as dt
from decimal import Decimal

from mutualise.fund.eligibility import RoundParameters, evaluate
from mutualise.fund.rules import application_form, criteria_template, eligibility_rules
from tests.fund.factories import GOOD_ANSWERS

TODAY = dt.date(2026, 6, 1)
ALL = ("E1", "E2", "E3", "E4", "E5", "E6")


def params(**extra):
    values = {
        "rule_codes": ALL,
        "min_match_share_percent": Decimal(10),
        "subsidy_cap_pence": 20_000_000,
    }
    values.update(extra)
    return RoundParameters(**values)


def failures(answers, **extra):
    return {r.code: r for r in evaluate(answers, params(**extra), TODAY).failures}


def test_rules_files_load_and_agree():
    assert eligibility_rules().codes == ALL
    assert {q.slug for q in application_form().questions} >= {"delivers_in_england", "cash_match"}
    assert criteria_template().criteria
    assert application_form().status("approved").applicant_name == "Successful"


def test_good_answers_pass_every_rule():
    outcome = evaluate(GOOD_ANSWERS, params(), TODAY)
    assert outcome.eligible
    assert [r.code for r in outcome.results] == list(ALL)


def test_not_in_england_fails_e1_in_plain_words():
    failed = failures({**GOOD_ANSWERS, "delivers_in_england": "no"})
    assert set(failed) == {"E1"}
    assert "England" in failed["E1"].explanation
    assert failed["E1"].fix_question == "delivers_in_england"


def test_neither_mutual_nor_intending_fails_e2():
    assert set(failures({**GOOD_ANSWERS, "mutual_status": "neither"})) == {"E2"}


def test_e3_live_within_five_years_passes_and_older_retendered_fails():
    live = {**GOOD_ANSWERS, "is_live": "yes", "contract_retendered": "yes"}
    assert not failures({**live, "go_live_date": "2022-01-01"})
    failed = failures({**live, "go_live_date": "2019-01-01"})
    assert set(failed) == {"E3"}
    assert "1 January 2019" in failed["E3"].explanation
    assert "5 years" in failed["E3"].explanation
    # Older but still on the original contract: eligible.
    assert not failures({**live, "go_live_date": "2015-01-01", "contract_retendered": "no"})
    # The number of years is a round parameter.
    assert set(failures({**live, "go_live_date": "2022-01-01"}, years_since_go_live=3)) == {"E3"}


def test_e3_leap_day_go_live():
    live = {
        **GOOD_ANSWERS,
        "is_live": "yes",
        "contract_retendered": "yes",
        "go_live_date": "2020-02-29",
    }
    assert evaluate(live, params(), dt.date(2025, 2, 28)).eligible
    assert not evaluate(live, params(), dt.date(2025, 3, 1)).eligible


def test_e4_needs_a_real_growth_case():
    failed = failures({**GOOD_ANSWERS, "growth_case": "We want to grow."})
    assert "4 words" in failed["E4"].explanation


def test_e5_cash_match_share_is_a_round_parameter():
    answers = {**GOOD_ANSWERS, "project_cost": 1_000_000, "cash_match": 50_000}
    failed = failures(answers)
    assert "at least 10%" in failed["E5"].explanation
    assert "5%" in failed["E5"].explanation
    assert not failures(answers, min_match_share_percent=Decimal(0))
    assert (
        "£0"
        in failures({**answers, "cash_match": 0}, min_match_share_percent=Decimal(0))[
            "E5"
        ].explanation
    )


def test_e6_subsidy_cap_names_the_headroom():
    failed = failures({**GOOD_ANSWERS, "subsidy_received": 19_000_000})
    assert "£210,000.00" in failed["E6"].explanation  # 190k received + 20k asked
    assert "£10,000.00 or less" in failed["E6"].explanation


def test_unanswered_question_is_explained_and_linked():
    answers = dict(GOOD_ANSWERS)
    del answers["cash_match"]
    result = failures(answers)["E5"]
    assert not result.answered
    assert result.fix_question == "cash_match"
    assert "have not answered" in result.explanation


def test_only_chosen_rules_are_checked():
    outcome = evaluate({"delivers_in_england": "yes"}, RoundParameters(rule_codes=("E1",)), TODAY)
    assert outcome.eligible


def test_round_parameter_problems():
    problems = RoundParameters(rule_codes=("E5", "E6", "E9")).problems()
    assert any("cash match" in p for p in problems)
    assert any("subsidy cap" in p for p in problems)
    assert any("E9" in p for p in problems)


def test_choice_labels_are_whole_sentences():
    choices = dict(application_form().question("mutual_status").choices)
    assert choices["intends_to_become"] == "Not yet, but we intend to become one"
