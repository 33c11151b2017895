"""Benchmark: match 5,000 groups with 500 ambassadors, exactly and greedily.

    .venv/bin/python bench/matching.py [--groups 5000] [--ambassadors 500] [--seed 7] [--no-write]

Generates plain data (no database), solves with the exact solver (min-cost flow, HiGHS) and the
greedy baseline, prints solve time and total fit of each and their ratio, and writes the
``## matching`` section of bench/RESULTS.md (other sections are kept). Target: exact solve under
5 s on this 2-core machine, total fit at least greedy's.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mutualise.ambassadors.matching import (  # noqa: E402
    AmbassadorFacts,
    GroupFacts,
    MatchingProblem,
    greedy,
    solve,
    violations,
)
from mutualise.ambassadors.matching_rules import load_rules  # noqa: E402
from mutualise.organisations.reference import (  # noqa: E402
    public_body_type_choices,
    region_choices,
    sector_choices,
)

STAGES = [
    "EXPLORE",
    "OPTIONS_APPRAISAL",
    "BUSINESS_CASE",
    "PARENT_BODY_DECISION",
    "LEGAL_FORM_AND_GOVERNANCE",
    "CONTRACT_AND_TRANSFER",
    "SHADOW_OPERATION",
    "LIVE",
    "GROW_AND_DIVERSIFY",
    "RETENDER",
]


def generate(n_groups: int, n_ambassadors: int, seed: int) -> MatchingProblem:
    rng = random.Random(seed)
    rules = load_rules()
    sectors = [code for code, _ in sector_choices()]
    regions = [code for code, _ in region_choices()]
    body_types = [code for code, _ in public_body_type_choices()]
    topics = list(rules.topic_codes)
    n_bodies = max(10, n_groups // 10)
    bodies = [(10_000_000 + b, rng.choice(body_types)) for b in range(n_bodies)]
    groups = []
    for i in range(n_groups):
        body_id, body_type = rng.choice(bodies)
        groups.append(
            GroupFacts(
                id=i + 1,
                name=f"Group {i + 1}",
                sector=rng.choice(sectors),
                stage=rng.choice(STAGES),
                region=rng.choice(regions),
                parent_body_id=body_id,
                parent_body_type=body_type,
                needs=frozenset(rng.sample(topics, rng.randint(0, 4))),
            )
        )
    ambassadors = []
    for j in range(n_ambassadors):
        led = 1_000_000 + j
        body_id, body_type = rng.choice(bodies)
        own_sectors = frozenset(rng.sample(sectors, rng.randint(1, 3)))
        ambassadors.append(
            AmbassadorFacts(
                id=j + 1,
                name=f"Ambassador {j + 1}",
                sectors=own_sectors,
                stages=frozenset(rng.sample(STAGES, rng.randint(2, 5))),
                regions=frozenset(rng.sample(regions, rng.randint(1, 3))),
                led_organisation_id=led,
                led_parent_body_id=body_id,
                led_parent_body_type=body_type,
                organisation_ids=frozenset({led}),
                capacity=rng.randint(1, 4),
                active_groups=rng.choice([0, 0, 0, 1]),
                available=rng.random() > 0.05,
                topics_offered=frozenset(rng.sample(topics, rng.randint(2, 6))),
                excluded_topics=frozenset(rng.sample(topics, rng.choice([0, 0, 1]))),
                past_ratings={
                    s: (rng.uniform(2.0, 5.0), rng.randint(1, 6))
                    for s in sorted(own_sectors)
                    if rng.random() < 0.5
                },
            )
        )
    # A few employer links and declared conflicts, as in real programmes.
    declared = {
        (rng.randint(1, n_groups), rng.randint(1, n_ambassadors)): "competing bid"
        for _ in range(n_groups // 50)
    }
    return MatchingProblem(groups, ambassadors, rules, declared_conflicts=declared)


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## matching\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--ambassadors", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    start_load = os.getloadavg()[0]
    problem = generate(args.groups, args.ambassadors, args.seed)
    exact_times, greedy_times = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        exact = solve(problem)
        exact_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        baseline = greedy(problem)
        greedy_times.append(time.perf_counter() - t)
    # Independent check of exactness on a smaller problem: the min-cost flow linear programme
    # (HiGHS) must reach the same total fit as the assignment solver.
    small = generate(args.groups // 5, args.ambassadors // 5, args.seed + 1)
    t = time.perf_counter()
    small_assignment = solve(small)
    small_assignment_time = time.perf_counter() - t
    t = time.perf_counter()
    small_flow = solve(small, method="flow")
    small_flow_time = time.perf_counter() - t
    assert abs(small_assignment.total_fit - small_flow.total_fit) < 1e-6
    assert not violations(problem, exact), violations(problem, exact)[:5]
    assert not violations(problem, baseline), violations(problem, baseline)[:5]
    places = sum(a.free_places for a in problem.ambassadors if a.available)
    ratio = exact.total_fit / baseline.total_fit if baseline.total_fit else float("inf")
    exact_best, greedy_best = min(exact_times), min(greedy_times)
    load = start_load
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f} at the start"
    )
    verdict = (
        "meets" if exact_best < 5 and exact.total_fit >= baseline.total_fit - 1e-9 else "MISSES"
    )
    lines = [
        "## matching",
        "",
        f"`bench/matching.py`, {datetime.now(UTC):%Y-%m-%d}, {machine}. "
        f"{args.groups:,} groups × {args.ambassadors:,} ambassadors ({places:,} free places), "
        f"seed {args.seed}, rules {problem.rules.version}; best of {args.repeat} runs, "
        "each including scoring every pair, conflicts and explanations of the chosen pairs.",
        "",
        "| solver | time (s) | pairs proposed | total fit | fit ÷ greedy |",
        "|---|---:|---:|---:|---:|",
        f"| exact: assignment over capacity slots (scipy linear_sum_assignment) | {exact_best:.2f} | {len(exact.assignments):,} | "
        f"{exact.total_fit:,.2f} | {ratio:.4f} |",
        f"| greedy: best pair first | {greedy_best:.2f} | {len(baseline.assignments):,} | "
        f"{baseline.total_fit:,.2f} | 1.0000 |",
        "",
        f"Candidate pairs after the minimum fit and conflicts: {exact.candidate_pairs:,} of "
        f"{args.groups * args.ambassadors:,}. Target: under 5 s and fit ≥ greedy — "
        f"**{verdict}**.",
        "",
        f"Exactness cross-check on {len(small.groups):,} × {len(small.ambassadors):,}: the "
        f"assignment solver ({small_assignment_time:.2f} s) and the min-cost flow linear programme "
        f"(scipy HiGHS, {small_flow_time:.2f} s) both reach a total fit of "
        f"{small_assignment.total_fit:,.2f}.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        write_section(ROOT / "bench" / "RESULTS.md", section)


if __name__ == "__main__":
    main()
