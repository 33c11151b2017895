"""Matching ambassadors with groups: the score, the conflicts, the exact solver and a greedy
baseline. Pure functions over plain data: no database, no Django (docs/adr/0006).

The fit of a pair is a sum of parts (``part_matrices``). The solver scores every pair with it at
once (numpy, one matrix per part); ``score_pair`` runs the very same function on a one-by-one
problem, so the explanation an officer reads is the arithmetic the solver used.

The assignment is a maximum-weight bipartite b-matching: each group gets at most one ambassador,
each ambassador at most their free places, pairs below the minimum fit or in conflict are not
edges. It is solved exactly as an assignment problem: each ambassador becomes one row per free
place and scipy's ``linear_sum_assignment`` finds the optimum (see ``_solve_assignment``). The
same problem as a min-cost flow linear programme (``method="flow"``, HiGHS) is kept as an
independent check for the tests.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment, linprog

from mutualise.ambassadors.matching_rules import PART_LABELS, PART_NAMES, MatchingRules

Pair = tuple[int, int]  # (group id, ambassador id)


@dataclass(frozen=True)
class GroupFacts:
    """What matching needs to know about a group (a staff group or a mutual)."""

    id: int
    name: str
    sector: str = ""
    stage: str = ""
    region: str = ""
    parent_body_id: int | None = None
    parent_body_type: str = ""
    needs: frozenset[str] = frozenset()  # topic codes read from the group's stated needs


@dataclass(frozen=True)
class AmbassadorFacts:
    """What matching needs to know about an ambassador."""

    id: int
    name: str
    sectors: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    led_organisation_id: int | None = None
    led_parent_body_id: int | None = None
    led_parent_body_type: str = ""
    organisation_ids: frozenset[int] = frozenset()  # organisations they lead or belong to
    # Public bodies that buy from the mutual they lead (contract watch): a group spinning out of
    # one of them will bid for work their mutual could bid for too.
    client_body_ids: frozenset[int] = frozenset()
    capacity: int = 1  # groups at once
    active_groups: int = 0  # groups they already have (proposed or accepted)
    available: bool = True  # False while they are away: no new groups
    topics_offered: frozenset[str] = frozenset()
    excluded_topics: frozenset[str] = frozenset()
    # sector -> (mean rating 1-5, number of ratings) from past engagements
    past_ratings: Mapping[str, tuple[float, int]] = field(default_factory=dict)

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - self.active_groups)


@dataclass(frozen=True)
class MatchingProblem:
    groups: Sequence[GroupFacts]
    ambassadors: Sequence[AmbassadorFacts]
    rules: MatchingRules
    pins: frozenset[Pair] = frozenset()
    forbids: frozenset[Pair] = frozenset()
    declared_conflicts: Mapping[Pair, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Score:
    total: float
    parts: tuple[tuple[str, float], ...]

    def part(self, name: str) -> float:
        return dict(self.parts)[name]

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in self.parts}


@dataclass(frozen=True)
class Assignment:
    group_id: int
    ambassador_id: int
    score: Score
    pinned: bool = False


@dataclass(frozen=True)
class Solution:
    assignments: tuple[Assignment, ...]
    unmatched_group_ids: tuple[int, ...]
    method: str
    seconds: float
    candidate_pairs: int
    notes: tuple[str, ...] = ()

    @property
    def total_fit(self) -> float:
        return float(sum(a.score.total for a in self.assignments))

    def load(self) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for assignment in self.assignments:
            counts[assignment.ambassador_id] += 1
        return dict(counts)


class MatchingInfeasible(Exception):
    """The officer's constraints cannot all be met. ``problems`` name each one, in plain words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- the score ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Encoded:
    """Groups and ambassadors as arrays, so every pair is scored at once."""

    group_sector: np.ndarray  # (G,) index into sectors, -1 when unknown
    group_stage: np.ndarray
    group_region: np.ndarray
    group_parent_type: np.ndarray
    group_needs: np.ndarray  # (G, T) 0/1
    amb_sectors: np.ndarray  # (A, S) 0/1
    amb_stages: np.ndarray  # (A, P)
    amb_regions: np.ndarray  # (A, R)
    amb_near: np.ndarray  # (A, R) regions next to one the ambassador covers
    amb_parent_type: np.ndarray  # (A,)
    amb_offered: np.ndarray  # (A, T)
    amb_excluded: np.ndarray  # (A, T)
    amb_past: np.ndarray  # (A, S) past-success share in [-1, 1], 0 without enough ratings


def _index(values: Iterable[str]) -> dict[str, int]:
    return {value: i for i, value in enumerate(sorted({v for v in values if v}))}


def _encode(
    groups: Sequence[GroupFacts], ambassadors: Sequence[AmbassadorFacts], rules: MatchingRules
) -> _Encoded:
    sectors = _index([g.sector for g in groups] + [s for a in ambassadors for s in a.sectors])
    stages = _index([g.stage for g in groups] + [s for a in ambassadors for s in a.stages])
    regions = _index(
        [g.region for g in groups]
        + [r for a in ambassadors for r in a.regions]
        + list(rules.neighbours)
    )
    parent_types = _index(
        [g.parent_body_type for g in groups] + [a.led_parent_body_type for a in ambassadors]
    )
    topics = {code: i for i, code in enumerate(rules.topic_codes)}
    n_groups, n_ambassadors = len(groups), len(ambassadors)

    def lookup(table: dict[str, int], values: Iterable[str]) -> np.ndarray:
        return np.fromiter((table.get(v, -1) for v in values), dtype=np.int64)

    def membership(table: dict[str, int], sets: Iterable[Iterable[str]], rows: int) -> np.ndarray:
        matrix = np.zeros((rows, max(len(table), 1)), dtype=np.float64)
        for row, values in enumerate(sets):
            for value in values:
                if value in table:
                    matrix[row, table[value]] = 1.0
        return matrix

    amb_regions = membership(regions, (a.regions for a in ambassadors), n_ambassadors)
    near_sets = [
        {n for region in a.regions for n in rules.neighbours.get(region, ())} for a in ambassadors
    ]
    amb_near = membership(regions, near_sets, n_ambassadors)
    amb_past = np.zeros((n_ambassadors, max(len(sectors), 1)))
    for row, ambassador in enumerate(ambassadors):
        for sector, (mean, count) in ambassador.past_ratings.items():
            if sector in sectors and count >= rules.past_success_minimum_ratings:
                amb_past[row, sectors[sector]] = max(-1.0, min(1.0, (float(mean) - 3.0) / 2.0))
    return _Encoded(
        group_sector=lookup(sectors, (g.sector for g in groups)),
        group_stage=lookup(stages, (g.stage for g in groups)),
        group_region=lookup(regions, (g.region for g in groups)),
        group_parent_type=lookup(parent_types, (g.parent_body_type for g in groups)),
        group_needs=membership(topics, (g.needs for g in groups), n_groups),
        amb_sectors=membership(sectors, (a.sectors for a in ambassadors), n_ambassadors),
        amb_stages=membership(stages, (a.stages for a in ambassadors), n_ambassadors),
        amb_regions=amb_regions,
        amb_near=amb_near,
        amb_parent_type=lookup(parent_types, (a.led_parent_body_type for a in ambassadors)),
        amb_offered=membership(topics, (a.topics_offered for a in ambassadors), n_ambassadors),
        amb_excluded=membership(topics, (a.excluded_topics for a in ambassadors), n_ambassadors),
        amb_past=amb_past,
    )


def _pick(matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(A, K) membership and (G,) indexes -> (G, A) with 0 where the index is unknown (-1)."""
    picked = matrix[:, np.maximum(index, 0)].T
    return picked * (index >= 0)[:, None]


def part_matrices(
    groups: Sequence[GroupFacts], ambassadors: Sequence[AmbassadorFacts], rules: MatchingRules
) -> Iterator[tuple[str, np.ndarray]]:
    """THE score function: yields (part name, groups x ambassadors matrix of that part's points).

    The fit of a pair is the sum of its parts. ``score_pair`` and the solver both call this.
    """
    e = _encode(groups, ambassadors, rules)
    w = rules.weights
    yield "sector", w["sector"] * _pick(e.amb_sectors, e.group_sector)
    yield "stage", w["stage"] * _pick(e.amb_stages, e.group_stage)
    same = _pick(e.amb_regions, e.group_region)
    near = _pick(e.amb_near, e.group_region) * (1.0 - same)
    yield "region", w["region"] * (same + rules.neighbour_share * near)
    same_type = (e.group_parent_type[:, None] == e.amb_parent_type[None, :]) & (
        e.group_parent_type[:, None] >= 0
    )
    yield "parent_body_type", w["parent_body_type"] * same_type.astype(np.float64)
    yield "past_success", w["past_success"] * _pick(e.amb_past, e.group_sector)
    needs_count = e.group_needs.sum(axis=1)
    offered = e.group_needs @ e.amb_offered.T
    share = np.divide(
        offered, needs_count[:, None], out=np.zeros_like(offered), where=needs_count[:, None] > 0
    )
    yield "needs", w["needs"] * share
    yield "excluded_topic", -w["excluded_topic"] * (e.group_needs @ e.amb_excluded.T)


def fit_matrix(
    groups: Sequence[GroupFacts], ambassadors: Sequence[AmbassadorFacts], rules: MatchingRules
) -> np.ndarray:
    total = np.zeros((len(groups), len(ambassadors)))
    for _name, part in part_matrices(groups, ambassadors, rules):
        total += part
    return total


def score_pair(group: GroupFacts, ambassador: AmbassadorFacts, rules: MatchingRules) -> Score:
    """The fit of one pair, broken into its parts (the same arithmetic the solver used)."""
    parts = tuple(
        (name, float(matrix[0, 0])) for name, matrix in part_matrices([group], [ambassador], rules)
    )
    total = 0.0
    for _name, value in parts:
        total += value
    return Score(total=total, parts=parts)


def explain(
    group: GroupFacts, ambassador: AmbassadorFacts, score: Score, rules: MatchingRules
) -> list[str]:
    """The score's parts in plain words, one sentence per part that counted."""
    from mutualise.organisations.reference import label

    lines = []
    parts = dict(score.parts)
    if parts["sector"]:
        lines.append(f"Knows {label('sectors', group.sector).lower()} (+{parts['sector']:g}).")
    if parts["stage"]:
        lines.append(
            f"Has been through the group's stage, {_stage_name(group.stage)} (+{parts['stage']:g})."
        )
    if parts["region"]:
        where = "covers" if group.region in ambassador.regions else "is next to"
        lines.append(
            f"{where.capitalize()} {label('regions', group.region)} (+{parts['region']:g})."
        )
    if parts["parent_body_type"]:
        lines.append(
            f"Their mutual also came from a {label('public_body_types', group.parent_body_type).lower()} (+{parts['parent_body_type']:g})."
        )
    if parts["past_success"]:
        mean, count = ambassador.past_ratings.get(group.sector, (0.0, 0))
        sign = "+" if parts["past_success"] > 0 else ""
        lines.append(
            f"Rated {mean:.1f} out of 5 on average by {count} similar "
            f"group{'s' if count != 1 else ''} ({sign}{parts['past_success']:.2f})."
        )
    if group.needs:
        met = sorted(group.needs & ambassador.topics_offered)
        if met:
            names = ", ".join(rules.topic_name(code).lower() for code in met)
            lines.append(
                f"Offers help with {len(met)} of the group's {len(group.needs)} stated "
                f"needs: {names} (+{parts['needs']:.2f})."
            )
    if parts["excluded_topic"]:
        unwanted = sorted(group.needs & ambassador.excluded_topics)
        names = ", ".join(rules.topic_name(code).lower() for code in unwanted)
        lines.append(f"Does not want to take on {names} ({parts['excluded_topic']:g}).")
    return lines


def _stage_name(code: str) -> str:
    try:
        from mutualise.journeys.workflow import load_workflow

        return load_workflow().stage(code).staff_name.lower()
    except KeyError:  # pragma: no cover - unknown stage codes come from old data
        return code.lower()


# --- conflicts of interest ----------------------------------------------------------------------


def conflict_reason(
    group: GroupFacts,
    ambassador: AmbassadorFacts,
    declared_conflicts: Mapping[Pair, str] | None = None,
) -> str | None:
    """Why this ambassador must never be paired with this group, or None."""
    if group.id in ambassador.organisation_ids or group.id == ambassador.led_organisation_id:
        return f"{ambassador.name} leads or works for {group.name} (employer link)"
    if group.parent_body_id is not None and group.parent_body_id in ambassador.organisation_ids:
        return f"{ambassador.name} works for {group.name}'s parent body (employer link)"
    if group.parent_body_id is not None and group.parent_body_id in ambassador.client_body_ids:
        return (
            f"the mutual {ambassador.name} leads holds contracts from {group.name}'s parent body, "
            "so they could bid against the group (competing bid, from contract watch)"
        )
    if group.parent_body_id is not None and group.parent_body_id == ambassador.led_parent_body_id:
        return (
            f"{ambassador.name}'s mutual came from the same parent body as {group.name} "
            "(same parent body)"
        )
    declared = (declared_conflicts or {}).get((group.id, ambassador.id))
    if declared:
        return f"{ambassador.name} has a declared conflict with {group.name}: {declared}"
    return None


def _conflict_pairs(
    groups: Sequence[GroupFacts],
    ambassadors: Sequence[AmbassadorFacts],
    declared: Mapping[Pair, str],
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indexes of every conflicting pair (sparse: joins, not all pairs)."""
    group_row = {g.id: i for i, g in enumerate(groups)}
    amb_col = {a.id: j for j, a in enumerate(ambassadors)}
    by_parent: dict[int, list[int]] = defaultdict(list)
    for i, group in enumerate(groups):
        if group.parent_body_id is not None:
            by_parent[group.parent_body_id].append(i)
    rows: list[int] = []
    cols: list[int] = []
    for j, ambassador in enumerate(ambassadors):
        for i in (
            by_parent.get(ambassador.led_parent_body_id, ())
            if ambassador.led_parent_body_id is not None
            else ()
        ):
            rows.append(i)
            cols.append(j)
        own = set(ambassador.organisation_ids)
        if ambassador.led_organisation_id is not None:
            own.add(ambassador.led_organisation_id)
        for organisation_id in own:
            if organisation_id in group_row:
                rows.append(group_row[organisation_id])
                cols.append(j)
        # Groups whose parent body employs the ambassador or buys from their mutual.
        for body_id in set(ambassador.organisation_ids) | set(ambassador.client_body_ids):
            for i in by_parent.get(body_id, ()):
                rows.append(i)
                cols.append(j)
    for (group_id, ambassador_id), _reason in declared.items():
        if group_id in group_row and ambassador_id in amb_col:
            rows.append(group_row[group_id])
            cols.append(amb_col[ambassador_id])
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


# --- constraints and candidate pairs -----------------------------------------------------------


def check_constraints(problem: MatchingProblem) -> list[str]:
    """Every pin that cannot be met, in plain words. Empty when the problem is feasible."""
    groups = {g.id: g for g in problem.groups}
    ambassadors = {a.id: a for a in problem.ambassadors}
    problems: list[str] = []
    pinned_to: dict[int, list[int]] = defaultdict(list)
    for group_id, ambassador_id in sorted(problem.pins):
        group = groups.get(group_id)
        ambassador = ambassadors.get(ambassador_id)
        if group is None:
            problems.append(
                f"A pinned group (number {group_id}) does not need an ambassador now, "
                "so the pin cannot be used: remove it."
            )
            continue
        if ambassador is None:
            problems.append(
                f"{group.name} is pinned to an ambassador (number {ambassador_id}) "
                "who is no longer an ambassador: remove the pin."
            )
            continue
        pinned_to[group_id].append(ambassador_id)
        if (group_id, ambassador_id) in problem.forbids:
            problems.append(
                f"{group.name} is both pinned to and forbidden with {ambassador.name}: "
                "remove one of the two."
            )
        reason = conflict_reason(group, ambassador, problem.declared_conflicts)
        if reason:
            problems.append(
                f"{group.name} cannot be pinned to {ambassador.name}: conflict of "
                f"interest ({reason})."
            )
        if not ambassador.available:
            problems.append(
                f"{group.name} cannot be pinned to {ambassador.name}: they are not "
                "available for new groups now."
            )
    for group_id, ambassador_ids in pinned_to.items():
        if len(ambassador_ids) > 1:
            names = ", ".join(ambassadors[a].name for a in ambassador_ids)
            problems.append(
                f"{groups[group_id].name} is pinned to more than one ambassador "
                f"({names}): a group has one ambassador."
            )
    per_ambassador: dict[int, int] = defaultdict(int)
    for _group_id, ambassador_id in problem.pins:
        if ambassador_id in ambassadors:
            per_ambassador[ambassador_id] += 1
    for ambassador_id, count in sorted(per_ambassador.items()):
        ambassador = ambassadors[ambassador_id]
        if count > ambassador.free_places:
            problems.append(
                f"{ambassador.name} has {ambassador.free_places} free place"
                f"{'s' if ambassador.free_places != 1 else ''} (capacity {ambassador.capacity}, "
                f"{ambassador.active_groups} groups already) but {count} groups are pinned to "
                "them: capacity cannot be met."
            )
    return problems


@dataclass(frozen=True)
class _Candidates:
    rows: np.ndarray  # group index
    cols: np.ndarray  # ambassador index
    fit: np.ndarray
    free: np.ndarray  # free places per ambassador after pins
    open_groups: np.ndarray  # bool per group: not pinned


def _prepare(problem: MatchingProblem) -> tuple[_Candidates, list[Assignment], list[str]]:
    problems = check_constraints(problem)
    if problems:
        raise MatchingInfeasible(problems)
    groups, ambassadors, rules = problem.groups, problem.ambassadors, problem.rules
    group_row = {g.id: i for i, g in enumerate(groups)}
    amb_col = {a.id: j for j, a in enumerate(ambassadors)}
    if len(group_row) != len(groups) or len(amb_col) != len(ambassadors):
        raise ValueError("group and ambassador ids must be unique")
    fit = fit_matrix(groups, ambassadors, rules)
    allowed = fit >= rules.minimum_fit
    rows, cols = _conflict_pairs(groups, ambassadors, problem.declared_conflicts)
    allowed[rows, cols] = False
    for group_id, ambassador_id in problem.forbids:
        if group_id in group_row and ambassador_id in amb_col:
            allowed[group_row[group_id], amb_col[ambassador_id]] = False
    free = np.array([a.free_places if a.available else 0 for a in ambassadors], dtype=np.int64)
    open_groups = np.ones(len(groups), dtype=bool)
    pinned: list[Assignment] = []
    for group_id, ambassador_id in sorted(problem.pins):
        i, j = group_row[group_id], amb_col[ambassador_id]
        open_groups[i] = False
        free[j] -= 1
        pinned.append(
            Assignment(
                group_id, ambassador_id, score_pair(groups[i], ambassadors[j], rules), pinned=True
            )
        )
    allowed &= open_groups[:, None]
    allowed &= (free > 0)[None, :]
    r, c = np.nonzero(allowed)
    notes = []
    for a in ambassadors:
        if a.active_groups > a.capacity:
            notes.append(
                f"{a.name} already has {a.active_groups} groups for a capacity of "
                f"{a.capacity}: no new groups are proposed to them."
            )
        elif not a.available:
            notes.append(
                f"{a.name} is away or outside their availability dates, so no new groups are "
                "proposed to them."
            )
    return _Candidates(r, c, fit[r, c], free, open_groups), pinned, notes


def _assemble(
    problem: MatchingProblem,
    chosen: Iterable[tuple[int, int]],
    pinned: list[Assignment],
    method: str,
    started: float,
    candidate_count: int,
    notes: list[str],
) -> Solution:
    groups, ambassadors, rules = problem.groups, problem.ambassadors, problem.rules
    assignments = list(pinned)
    for i, j in chosen:
        assignments.append(
            Assignment(
                groups[i].id, ambassadors[j].id, score_pair(groups[i], ambassadors[j], rules)
            )
        )
    matched = {a.group_id for a in assignments}
    unmatched = tuple(g.id for g in groups if g.id not in matched)
    assignments.sort(key=lambda a: (-a.score.total, a.group_id))
    return Solution(
        tuple(assignments),
        unmatched,
        method,
        time.perf_counter() - started,
        candidate_count,
        tuple(notes),
    )


def solve(problem: MatchingProblem, *, method: str = "assignment") -> Solution:
    """The assignment with the greatest total fit that meets every constraint.

    Raises MatchingInfeasible (naming each constraint) when the officer's pins cannot be met;
    otherwise always succeeds, leaving groups unmatched when no allowed pair is left for them.
    ``method`` "assignment" (the default, fast) and "flow" (a linear programme, used by the tests
    as an independent check) give the same total fit.
    """
    started = time.perf_counter()
    candidates, pinned, notes = _prepare(problem)
    if method == "assignment":
        chosen = _solve_assignment(candidates, len(problem.groups), len(problem.ambassadors))
        label = "exact (assignment with capacity slots)"
    elif method == "flow":
        chosen = _solve_flow(candidates, len(problem.groups), len(problem.ambassadors))
        label = "exact (min-cost flow linear programme)"
    else:
        raise ValueError(f"unknown matching method {method}")
    return _assemble(problem, chosen, pinned, label, started, len(candidates.fit), notes)


def _solve_assignment(c: _Candidates, n_groups: int, n_ambassadors: int) -> list[tuple[int, int]]:
    """Exact: each ambassador becomes one row per free place ("slot"); groups are columns.

    A b-matching with capacities is an assignment problem over slots (identical copies of an
    ambassador are interchangeable). Pairs that are not allowed cost 0, the same as leaving the
    slot empty, and are dropped afterwards, so the optimum of this matrix is the optimum of the
    constrained problem. scipy's linear_sum_assignment (shortest augmenting paths, exact) solves
    the rectangular matrix; only ambassadors and groups with an allowed pair take part.
    """
    if len(c.fit) == 0:
        return []
    groups_used = np.unique(c.rows)
    ambassadors_used = np.unique(c.cols)
    group_position = np.full(n_groups, -1, dtype=np.int64)
    group_position[groups_used] = np.arange(len(groups_used))
    amb_position = np.full(n_ambassadors, -1, dtype=np.int64)
    amb_position[ambassadors_used] = np.arange(len(ambassadors_used))
    fit = np.zeros((len(ambassadors_used), len(groups_used)))
    allowed = np.zeros(fit.shape, dtype=bool)
    fit[amb_position[c.cols], group_position[c.rows]] = np.maximum(c.fit, 0.0)
    allowed[amb_position[c.cols], group_position[c.rows]] = c.fit > 0
    places = np.maximum(c.free[ambassadors_used], 0)
    places = np.minimum(places, len(groups_used))  # more slots than groups never help
    slot_owner = np.repeat(np.arange(len(ambassadors_used)), places)
    if len(slot_owner) == 0:
        return []
    slot_rows, group_cols = linear_sum_assignment(fit[slot_owner], maximize=True)
    owners = slot_owner[slot_rows]
    keep = allowed[owners, group_cols]
    return list(
        zip(
            groups_used[group_cols[keep]].tolist(),
            ambassadors_used[owners[keep]].tolist(),
            strict=True,
        )
    )


def _solve_flow(c: _Candidates, n_groups: int, n_ambassadors: int) -> list[tuple[int, int]]:
    """Exact, slower: the same problem as a min-cost flow linear programme (HiGHS simplex).

    The constraint matrix of a bipartite network is totally unimodular, so the optimal vertex
    is whole; it is checked, never rounded away silently.
    """
    n_edges = len(c.fit)
    if n_edges == 0:
        return []
    useful = c.fit > 0
    rows, cols, fit = c.rows[useful], c.cols[useful], c.fit[useful]
    n_edges = len(fit)
    if n_edges == 0:
        return []
    edge_index = np.arange(n_edges)
    matrix = sparse.csr_matrix(
        (
            np.ones(2 * n_edges),
            (np.concatenate([rows, n_groups + cols]), np.concatenate([edge_index, edge_index])),
        ),
        shape=(n_groups + n_ambassadors, n_edges),
    )
    upper = np.concatenate([np.ones(n_groups), np.maximum(c.free, 0).astype(np.float64)])
    result = linprog(-fit, A_ub=matrix, b_ub=upper, bounds=(0, 1), method="highs-ds")
    if result.status != 0:  # pragma: no cover - the all-zero flow is always feasible
        raise RuntimeError(f"the matching solver failed: {result.message}")
    x = result.x
    if np.any(np.abs(x - np.round(x)) > 1e-6):  # pragma: no cover - total unimodularity
        raise RuntimeError("the matching solver returned a fractional flow")
    picked = np.nonzero(x > 0.5)[0]
    return list(zip(rows[picked].tolist(), cols[picked].tolist(), strict=True))


def greedy(problem: MatchingProblem) -> Solution:
    """The baseline: take the best remaining pair while places last. Same constraints."""
    started = time.perf_counter()
    candidates, pinned, notes = _prepare(problem)
    order = np.lexsort((candidates.cols, candidates.rows, -candidates.fit))
    free = candidates.free.copy()
    taken = np.zeros(len(problem.groups), dtype=bool)
    chosen = []
    places_left = int(np.maximum(free, 0).sum())
    for k in order.tolist():
        if places_left == 0:
            break
        i, j = int(candidates.rows[k]), int(candidates.cols[k])
        if taken[i] or free[j] <= 0:
            continue
        taken[i] = True
        free[j] -= 1
        places_left -= 1
        chosen.append((i, j))
    return _assemble(
        problem, chosen, pinned, "greedy (best pair first)", started, len(candidates.fit), notes
    )


def violations(problem: MatchingProblem, solution: Solution) -> list[str]:
    """Every constraint the solution breaks (empty when it is valid). Used by the tests."""
    groups = {g.id: g for g in problem.groups}
    ambassadors = {a.id: a for a in problem.ambassadors}
    found: list[str] = []
    seen: set[int] = set()
    for a in solution.assignments:
        if a.group_id in seen:
            found.append(f"group {a.group_id} assigned twice")
        seen.add(a.group_id)
        group, ambassador = groups[a.group_id], ambassadors[a.ambassador_id]
        if (a.group_id, a.ambassador_id) in problem.forbids:
            found.append(f"forbidden pair {a.group_id}-{a.ambassador_id}")
        if conflict_reason(group, ambassador, problem.declared_conflicts):
            found.append(f"conflicting pair {a.group_id}-{a.ambassador_id}")
        if not ambassador.available:
            found.append(f"unavailable ambassador {a.ambassador_id}")
        if not a.pinned and a.score.total < problem.rules.minimum_fit:
            found.append(f"pair {a.group_id}-{a.ambassador_id} below the minimum fit")
    for ambassador_id, count in solution.load().items():
        if count > ambassadors[ambassador_id].free_places:
            found.append(f"ambassador {ambassador_id} over capacity")
    for pin in problem.pins:
        if not any((a.group_id, a.ambassador_id) == pin for a in solution.assignments):
            found.append(f"pin {pin} not kept")
    return found


__all__ = [
    "PART_LABELS",
    "PART_NAMES",
    "AmbassadorFacts",
    "Assignment",
    "GroupFacts",
    "MatchingInfeasible",
    "MatchingProblem",
    "Score",
    "Solution",
    "check_constraints",
    "conflict_reason",
    "explain",
    "fit_matrix",
    "greedy",
    "part_matrices",
    "score_pair",
    "solve",
    "violations",
]
