"""The readiness questionnaire (rules/readiness.yaml) and its scoring. Pure: no database."""

from __future__ import annotations

import copy

import pytest

from mutualise.journeys import readiness
from mutualise.rules import RulesError, load_yaml

THEMES = {
    "staff_appetite_and_leadership",
    "market_demand",
    "financial_viability",
    "governance_and_employee_control",
    "commissioner_support",
    "legal_tupe_and_pensions",
}


@pytest.fixture
def questionnaire() -> readiness.Questionnaire:
    return readiness.load_questionnaire()


def answers_at(questionnaire: readiness.Questionnaire, score: int) -> dict[str, str]:
    """Every question answered with the option worth ``score``."""
    return {
        q.code: next(o.code for o in q.options if o.score == score) for q in questionnaire.questions
    }


def raw_version() -> dict:
    data = load_yaml("readiness.yaml")
    return copy.deepcopy(data["versions"][str(data["current"])])


def test_current_questionnaire_has_the_six_themes_with_three_or_four_questions(questionnaire):
    assert {t.code for t in questionnaire.themes} == THEMES
    for theme in questionnaire.themes:
        assert 3 <= len(theme.questions) <= 4, theme.code
        for question in theme.questions:
            assert len(question.options) == 4
            assert sorted(o.score for o in question.options) == [0, 1, 2, 3]
        assert set(theme.recommendations) == {b.code for b in questionnaire.bands}


def test_question_codes_are_unique_and_strings(questionnaire):
    codes = [q.code for q in questionnaire.questions]
    assert len(codes) == len(set(codes))
    assert all(isinstance(o.code, str) for q in questionnaire.questions for o in q.options)


def test_navigation_walks_the_questions_in_order(questionnaire):
    questions = questionnaire.questions
    assert questionnaire.previous_question(questions[0].code) is None
    assert questionnaire.next_question(questions[0].code) == questions[1]
    assert questionnaire.next_question(questions[-1].code) is None
    assert questionnaire.position(questions[-1].code) == len(questions)
    assert questionnaire.first_unanswered({}) == questions[0]
    answered = {questions[0].code: questions[0].options[0].code}
    assert questionnaire.first_unanswered(answered) == questions[1]


def test_all_top_answers_are_ready_in_every_theme(questionnaire):
    result = readiness.score(questionnaire, answers_at(questionnaire, 3))
    assert {t.band for t in result.themes} == {"ready"}
    assert all(t.percent == 100 for t in result.themes)
    assert result.score == result.maximum


def test_all_lowest_answers_are_significant_gaps(questionnaire):
    result = readiness.score(questionnaire, answers_at(questionnaire, 0))
    assert {t.band for t in result.themes} == {"significant_gaps"}
    assert result.score == 0
    theme = questionnaire.themes[0]
    assert result.themes[0].recommendation == theme.recommendations["significant_gaps"]


def test_middle_answers_are_some_gaps(questionnaire):
    # score 2 of 3 everywhere = 66% -> between 40 and 75
    result = readiness.score(questionnaire, answers_at(questionnaire, 2))
    assert {t.band for t in result.themes} == {"some_gaps"}


def test_band_boundaries_are_inclusive(questionnaire):
    assert questionnaire.band_for(75).code == "ready"
    assert questionnaire.band_for(74).code == "some_gaps"
    assert questionnaire.band_for(40).code == "some_gaps"
    assert questionnaire.band_for(39).code == "significant_gaps"
    assert questionnaire.band_for(0).code == "significant_gaps"


def test_theme_score_sums_its_answers(questionnaire):
    answers = answers_at(questionnaire, 0)
    theme = questionnaire.theme("market_demand")
    answers[theme.questions[0].code] = next(
        o.code for o in theme.questions[0].options if o.score == 3
    )
    result = readiness.score(questionnaire, answers)
    market = next(t for t in result.themes if t.theme == "market_demand")
    assert (market.score, market.maximum) == (3, 3 * len(theme.questions))
    assert market.percent == 100 // len(theme.questions)


def test_scoring_refuses_missing_and_unknown_answers(questionnaire):
    answers = answers_at(questionnaire, 1)
    first, second = questionnaire.questions[:2]
    del answers[first.code]
    answers[second.code] = "not-an-option"
    with pytest.raises(readiness.IncompleteAnswers) as caught:
        readiness.score(questionnaire, answers)
    assert [q.code for q in caught.value.questions] == [first.code, second.code]


def test_result_dict_keeps_names_bands_and_recommendations(questionnaire):
    result = readiness.score(questionnaire, answers_at(questionnaire, 3)).as_dict()
    assert result["version"] == questionnaire.version
    assert result["themes"][0]["name"] == questionnaire.themes[0].name
    assert {
        "score",
        "maximum",
        "percent",
        "band",
        "band_name",
        "band_colour",
        "recommendation",
    } <= set(result["themes"][0])


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda v: v["themes"][0]["questions"][0]["options"].pop(), "must have 4 options"),
        (lambda v: v["themes"][0]["recommendations"].pop("ready"), "no recommendation for ready"),
        (
            lambda v: v["themes"][1]["questions"].append(v["themes"][0]["questions"][0]),
            "appears twice",
        ),
        (lambda v: v["bands"].reverse(), "highest first"),
        (lambda v: v["bands"][-1].update(min_percent=10), "must start at 0"),
        (
            lambda v: v["themes"][0]["questions"][0]["options"][0].update(score="high"),
            "integer score",
        ),
        (lambda v: v["themes"][0]["questions"][0]["options"][0].update(code=False), "option code"),
        (lambda v: v["themes"][0].update(questions=[]), "has no questions"),
        (lambda v: v["bands"][0].update(colour="tartan"), "colour must be one of"),
        (lambda v: v["themes"][0]["questions"][0].pop("text"), "missing text"),
    ],
)
def test_broken_questionnaires_are_refused_with_the_reason(break_it, message):
    version = raw_version()
    break_it(version)
    with pytest.raises(RulesError, match=message):
        readiness.parse_questionnaire("broken", version)


def test_unknown_version_is_refused():
    with pytest.raises(RulesError, match="no questionnaire version"):
        readiness.load_questionnaire("1999-01-01")
