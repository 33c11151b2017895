"""The score function, the constraints and the solver: plain data, no database."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutualise.ambassadors.matching import (
    AmbassadorFacts,
    GroupFacts,
    MatchingInfeasible,
    MatchingProblem,
    conflict_reason,
    explain,
    fit_matrix,
    greedy,
    score_pair,
    solve,
    violations,
)
from mutualise.ambassadors.matching_rules import build_rules, load_rules, topics_in_text
from mutualise.rules import RulesError, load_yaml

RULES = load_rules()
W = RULES.weights


def group(id_: int = 1, **kw) -> GroupFacts:
    values = dict(
        name=f"Group {id_}",
        sector="health",
        stage="BUSINESS_CASE",
        region="london",
        parent_body_id=100 + id_,
        parent_body_type="nhs",
        needs=frozenset(),
    )
    values.update(kw)
    return GroupFacts(id=id_, **values)


def ambassador(id_: int = 1, **kw) -> AmbassadorFacts:
    values = dict(
        name=f"Ambassador {id_}",
        sectors=frozenset({"health"}),
        stages=frozenset({"BUSINESS_CASE"}),
        regions=frozenset({"london"}),
        led_organisation_id=900 + id_,
        led_parent_body_id=800 + id_,
        led_parent_body_type="nhs",
        organisation_ids=frozenset({900 + id_}),
        capacity=2,
    )
    values.update(kw)
    return AmbassadorFacts(id=id_, **values)


# --- the score --------------------------------------------------------------------------------


def test_full_fit_adds_every_part():
    score = score_pair(group(), ambassador(), RULES)
    assert score.part("sector") == W["sector"]
    assert score.part("stage") == W["stage"]
    assert score.part("region") == W["region"]
    assert score.part("parent_body_type") == W["parent_body_type"]
    assert score.part("past_success") == 0
    assert score.total == pytest.approx(sum(v for _, v in score.parts))


def test_region_same_beats_neighbouring_beats_other():
    same = score_pair(group(region="london"), ambassador(regions=frozenset({"london"})), RULES)
    near = score_pair(group(region="south-east"), ambassador(regions=frozenset({"london"})), RULES)
    far = score_pair(group(region="scotland"), ambassador(regions=frozenset({"london"})), RULES)
    assert same.part("region") == W["region"]
    assert near.part("region") == W["region"] * RULES.neighbour_share
    assert far.part("region") == 0


def test_sector_and_stage_only_count_when_known():
    score = score_pair(group(sector="leisure", stage="LIVE"), ambassador(), RULES)
    assert score.part("sector") == 0
    assert score.part("stage") == 0


def test_parent_body_type_must_match():
    score = score_pair(group(parent_body_type="local-authority"), ambassador(), RULES)
    assert score.part("parent_body_type") == 0
    unknown = score_pair(group(parent_body_type=""), ambassador(led_parent_body_type=""), RULES)
    assert unknown.part("parent_body_type") == 0


def test_past_success_from_ratings_in_the_same_sector():
    good = ambassador(past_ratings={"health": (5.0, 3)})
    poor = ambassador(past_ratings={"health": (1.0, 2)})
    elsewhere = ambassador(past_ratings={"leisure": (5.0, 3)})
    assert score_pair(group(), good, RULES).part("past_success") == W["past_success"]
    assert score_pair(group(), poor, RULES).part("past_success") == -W["past_success"]
    assert score_pair(group(), elsewhere, RULES).part("past_success") == 0


def test_needs_share_and_unwanted_topics():
    g = group(needs=frozenset({"pensions", "tupe", "finance", "governance"}))
    a = ambassador(
        topics_offered=frozenset({"pensions", "tupe"}), excluded_topics=frozenset({"finance"})
    )
    score = score_pair(g, a, RULES)
    assert score.part("needs") == pytest.approx(W["needs"] * 2 / 4)
    assert score.part("excluded_topic") == -W["excluded_topic"]


def test_stated_needs_text_is_read_for_topics():
    text = "Financial modelling, pensions advice and TUPE advice for the business case."
    assert topics_in_text(text, RULES) == {"finance", "pensions", "tupe", "business-planning"}
    assert topics_in_text("", RULES) == frozenset()
    assert "bidding" not in topics_in_text("A forbidden topic", RULES)


def test_matrix_and_pair_scores_agree():
    groups = [
        group(i, sector=s, region=r)
        for i, (s, r) in enumerate(itertools.product(["health", "leisure"], ["london", "wales"]), 1)
    ]
    ambassadors = [
        ambassador(1),
        ambassador(2, sectors=frozenset({"leisure"}), regions=frozenset({"wales"})),
    ]
    matrix = fit_matrix(groups, ambassadors, RULES)
    for i, g in enumerate(groups):
        for j, a in enumerate(ambassadors):
            assert matrix[i, j] == pytest.approx(score_pair(g, a, RULES).total)


def test_explanation_names_the_parts_that_counted():
    g = group(needs=frozenset({"pensions"}))
    a = ambassador(topics_offered=frozenset({"pensions"}), past_ratings={"health": (4.0, 2)})
    lines = explain(g, a, score_pair(g, a, RULES), RULES)
    text = " ".join(lines)
    assert "Knows community health" in text
    assert "business case" in text
    assert "Covers London" in text
    assert "Rated 4.0 out of 5 on average by 2 similar groups" in text
    assert "pensions" in text


# --- rules data -------------------------------------------------------------------------------


def test_rules_file_loads_and_is_validated():
    assert RULES.waiting_too_long_days > 0
    data = dict(load_yaml("ambassador_matching.yaml"))
    broken = {**data, "neighbours": {"london": ["wales"], "wales": []}}
    with pytest.raises(RulesError, match="symmetric"):
        build_rules(broken)
    with pytest.raises(RulesError, match="weights is missing"):
        build_rules({**data, "weights": {"sector": 1}})


# --- conflicts and constraints ------------------------------------------------------------------


def test_conflicts_same_parent_body_employer_link_declared():
    assert "same parent body" in conflict_reason(
        group(parent_body_id=5), ambassador(led_parent_body_id=5)
    )
    assert "employer link" in conflict_reason(group(1), ambassador(organisation_ids=frozenset({1})))
    assert "competing bid" in conflict_reason(group(1), ambassador(2), {(1, 2): "competing bid"})
    assert conflict_reason(group(), ambassador()) is None


def test_conflicts_with_the_groups_parent_body():
    employed = ambassador(1, organisation_ids=frozenset({5}))
    assert "works for" in conflict_reason(group(1, parent_body_id=5), employed)
    supplier = ambassador(2, client_body_ids=frozenset({5}))
    reason = conflict_reason(group(1, parent_body_id=5), supplier)
    assert "competing bid, from contract watch" in reason
    assert conflict_reason(group(1, parent_body_id=6), supplier) is None
    # The solver's sparse conflict list finds the same pairs.
    groups = [group(1, parent_body_id=5), group(2, parent_body_id=6), group(3, parent_body_id=5)]
    problem = MatchingProblem(groups, [employed, supplier], RULES)
    assert {a.group_id for a in solve(problem).assignments} == {2}


def test_solver_never_pairs_conflicts_or_forbidden_pairs():
    groups = [group(1, parent_body_id=5), group(2), group(3)]
    ambassadors = [ambassador(1, led_parent_body_id=5, capacity=3)]
    problem = MatchingProblem(
        groups,
        ambassadors,
        RULES,
        forbids=frozenset({(2, 1)}),
        declared_conflicts={(3, 1): "competing bid"},
    )
    solution = solve(problem)
    assert solution.assignments == ()
    assert set(solution.unmatched_group_ids) == {1, 2, 3}


def test_capacity_and_availability_are_respected():
    groups = [group(i) for i in range(1, 6)]
    ambassadors = [ambassador(1, capacity=3, active_groups=1), ambassador(2, available=False)]
    solution = solve(MatchingProblem(groups, ambassadors, RULES))
    assert solution.load() == {1: 2}
    assert len(solution.unmatched_group_ids) == 3


def test_pins_are_kept_and_use_capacity():
    groups = [group(1), group(2, sector="leisure"), group(3)]
    ambassadors = [ambassador(1, capacity=1), ambassador(2, capacity=2)]
    problem = MatchingProblem(groups, ambassadors, RULES, pins=frozenset({(2, 1)}))
    solution = solve(problem)
    pinned = [a for a in solution.assignments if a.pinned]
    assert [(a.group_id, a.ambassador_id) for a in pinned] == [(2, 1)]
    assert solution.load()[1] == 1
    assert not violations(problem, solution)


@pytest.mark.parametrize(
    ("pins", "forbids", "ambassadors", "message"),
    [
        ({(1, 1), (2, 1)}, set(), [ambassador(1, capacity=1)], "capacity cannot be met"),
        ({(1, 1)}, {(1, 1)}, [ambassador(1)], "both pinned to and forbidden"),
        ({(1, 1)}, set(), [ambassador(1, led_parent_body_id=101)], "conflict of interest"),
        ({(1, 1)}, set(), [ambassador(1, available=False)], "not available"),
        ({(1, 1), (1, 2)}, set(), [ambassador(1), ambassador(2)], "more than one ambassador"),
        ({(1, 1)}, set(), [ambassador(1, capacity=2, active_groups=3)], "capacity cannot be met"),
    ],
)
def test_impossible_pins_name_the_constraint(pins, forbids, ambassadors, message):
    problem = MatchingProblem(
        [group(1), group(2)], ambassadors, RULES, pins=frozenset(pins), forbids=frozenset(forbids)
    )
    with pytest.raises(MatchingInfeasible) as caught:
        solve(problem)
    assert any(message in p for p in caught.value.problems)
    with pytest.raises(MatchingInfeasible):
        greedy(problem)


def test_exact_beats_greedy_where_greedy_is_short_sighted():
    # Group 1 fits both ambassadors, group 2 only ambassador 1. Greedy gives ambassador 1 to
    # group 1 (its single best pair) and strands group 2; the exact solver matches both.
    g1 = group(1, needs=frozenset({"pensions"}))
    g2 = group(2, region="wales", sector="leisure")
    a1 = ambassador(
        1,
        capacity=1,
        topics_offered=frozenset({"pensions"}),
        sectors=frozenset({"health", "leisure"}),
        regions=frozenset({"london", "wales"}),
    )
    a2 = ambassador(2, capacity=1, stages=frozenset())
    problem = MatchingProblem([g1, g2], [a1, a2], RULES)
    exact, baseline = solve(problem), greedy(problem)
    assert len(exact.assignments) == 2
    assert exact.total_fit > baseline.total_fit


# --- the property: exact is never worse than greedy, and every constraint holds ----------------

SECTORS = ["health", "leisure", "social-care"]
STAGES = ["EXPLORE", "BUSINESS_CASE", "LIVE"]
REGIONS = ["london", "south-east", "wales", "scotland"]
TOPICS = list(RULES.topic_codes[:5])


@st.composite
def problems(draw):
    n_groups = draw(st.integers(1, 8))
    n_ambassadors = draw(st.integers(1, 4))
    groups = [
        GroupFacts(
            id=i,
            name=f"G{i}",
            sector=draw(st.sampled_from(SECTORS)),
            stage=draw(st.sampled_from(STAGES)),
            region=draw(st.sampled_from(REGIONS)),
            parent_body_id=draw(st.integers(1, 4)),
            parent_body_type=draw(st.sampled_from(["nhs", "local-authority"])),
            needs=frozenset(draw(st.lists(st.sampled_from(TOPICS), max_size=3))),
        )
        for i in range(1, n_groups + 1)
    ]
    ambassadors = [
        AmbassadorFacts(
            id=j,
            name=f"A{j}",
            sectors=frozenset(draw(st.lists(st.sampled_from(SECTORS), min_size=1, max_size=2))),
            stages=frozenset(draw(st.lists(st.sampled_from(STAGES), max_size=2))),
            regions=frozenset(draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=2))),
            led_organisation_id=100 + j,
            led_parent_body_id=draw(st.integers(1, 6)),
            led_parent_body_type=draw(st.sampled_from(["nhs", "local-authority"])),
            organisation_ids=frozenset({100 + j}),
            capacity=draw(st.integers(0, 3)),
            active_groups=draw(st.integers(0, 1)),
            available=draw(st.booleans()) or draw(st.booleans()),
            topics_offered=frozenset(draw(st.lists(st.sampled_from(TOPICS), max_size=3))),
            excluded_topics=frozenset(draw(st.lists(st.sampled_from(TOPICS), max_size=1))),
            past_ratings={
                s: (draw(st.floats(1, 5)), 1)
                for s in draw(st.lists(st.sampled_from(SECTORS), max_size=1))
            },
        )
        for j in range(1, n_ambassadors + 1)
    ]
    pairs = st.tuples(st.integers(1, n_groups), st.integers(1, n_ambassadors))
    forbids = frozenset(draw(st.lists(pairs, max_size=3)))
    declared = {pair: "competing bid" for pair in draw(st.lists(pairs, max_size=2))}
    return MatchingProblem(groups, ambassadors, RULES, forbids=forbids, declared_conflicts=declared)


def brute_force_best(problem: MatchingProblem) -> float:
    """The best total by trying every assignment (tiny problems only)."""
    groups, ambassadors = list(problem.groups), list(problem.ambassadors)
    options = []
    for g in groups:
        allowed = [None]
        for a in ambassadors:
            score = score_pair(g, a, problem.rules)
            if (
                a.available
                and score.total >= problem.rules.minimum_fit
                and (g.id, a.id) not in problem.forbids
                and not conflict_reason(g, a, problem.declared_conflicts)
            ):
                allowed.append((a, score.total))
        options.append(allowed)
    best = 0.0
    for choice in itertools.product(*options):
        load: dict[int, int] = {}
        total = 0.0
        for picked in choice:
            if picked is None:
                continue
            a, value = picked
            load[a.id] = load.get(a.id, 0) + 1
            total += value
        if all(load[a.id] <= a.free_places for a in ambassadors if a.id in load):
            best = max(best, total)
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_exact_is_never_below_greedy_and_keeps_every_constraint(problem):
    exact, baseline = solve(problem), greedy(problem)
    assert violations(problem, exact) == []
    assert violations(problem, baseline) == []
    assert exact.total_fit >= baseline.total_fit - 1e-9
    assert exact.total_fit == pytest.approx(solve(problem, method="flow").total_fit, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(problems().filter(lambda p: len(p.groups) <= 5 and len(p.ambassadors) <= 3))
def test_exact_is_optimal_on_small_problems(problem):
    assert solve(problem).total_fit == pytest.approx(brute_force_best(problem), abs=1e-6)


def test_matching_is_pure_python_without_django():
    import subprocess
    import sys

    code = (
        "import sys; import mutualise.ambassadors.matching, mutualise.ambassadors.matching_rules;"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
