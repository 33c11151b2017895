"""Does an organisation count as a public service mutual? A pure, versioned rule.

The definition is data (rules/mutual_definition.yaml); this module only evaluates it, and every
verdict carries the reason for each criterion so a page can say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from mutualise.rules import RulesError, load_yaml, require_keys


@dataclass(frozen=True)
class MutualFacts:
    """What we know of an organisation, as plain values (None means not known)."""

    left_public_sector: bool | None
    delivers_public_services: bool | None
    has_social_mission: bool | None
    staff_vote_share_percent: Decimal | None
    staff_board_seats: int | None
    board_seats: int | None
    employee_trust_stake_percent: Decimal | None


@dataclass(frozen=True)
class CriterionResult:
    code: str
    label: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class Verdict:
    definition_version: str
    definition_title: str
    is_mutual: bool
    criteria: list[CriterionResult] = field(default_factory=list)

    @property
    def failed(self) -> list[CriterionResult]:
        return [c for c in self.criteria if not c.passed]


@dataclass(frozen=True)
class Definition:
    version: str
    title: str
    criteria: list[tuple[str, str]]
    thresholds: dict[str, Decimal]


KNOWN_CRITERIA = {
    "left_public_sector",
    "delivers_public_services",
    "social_mission",
    "significant_staff_control",
}


@cache
def definitions() -> dict[str, Definition]:
    data = load_yaml("mutual_definition.yaml")
    result = {}
    for version, item in data["versions"].items():
        require_keys(
            "mutual_definition.yaml", version, item, ["title", "criteria", "staff_control"]
        )
        criteria = []
        for criterion in item["criteria"]:
            if criterion["code"] not in KNOWN_CRITERIA:
                raise RulesError(f"mutual_definition.yaml: unknown criterion {criterion['code']}")
            criteria.append((criterion["code"], criterion["label"]))
        thresholds = {k: Decimal(str(v)) for k, v in item["staff_control"].items()}
        result[version] = Definition(version, item["title"], criteria, thresholds)
    if data["current"] not in result:
        raise RulesError("mutual_definition.yaml: current names a version that is not defined")
    return result


def current_version() -> str:
    return str(load_yaml("mutual_definition.yaml")["current"])


def evaluate(
    facts: MutualFacts, version: str | None = None, overrides: dict[str, Any] | None = None
) -> Verdict:
    """Apply a definition version; ``overrides`` replaces thresholds (programme setting)."""
    definition = definitions()[version or current_version()]
    thresholds = dict(definition.thresholds)
    for key, value in (overrides or {}).items():
        if key not in thresholds:
            raise RulesError(f"{key} is not a threshold of definition {definition.version}")
        thresholds[key] = Decimal(str(value))
    results = [_check(code, label, facts, thresholds) for code, label in definition.criteria]
    return Verdict(definition.version, definition.title, all(r.passed for r in results), results)


def _flag(code: str, label: str, value: bool | None, yes: str, no: str) -> CriterionResult:
    if value is None:
        return CriterionResult(code, label, False, "Not recorded yet")
    return CriterionResult(code, label, value, yes if value else no)


def _check(
    code: str, label: str, facts: MutualFacts, thresholds: dict[str, Decimal]
) -> CriterionResult:
    if code == "left_public_sector":
        return _flag(
            code,
            label,
            facts.left_public_sector,
            "Spun out of the public sector",
            "Still part of the public sector",
        )
    if code == "delivers_public_services":
        return _flag(
            code,
            label,
            facts.delivers_public_services,
            "Delivers public services",
            "Does not deliver public services",
        )
    if code == "social_mission":
        return _flag(
            code,
            label,
            facts.has_social_mission,
            "Has a stated social mission",
            "No social mission recorded",
        )
    return _staff_control(code, label, facts, thresholds)


def _staff_control(
    code: str, label: str, facts: MutualFacts, thresholds: dict[str, Decimal]
) -> CriterionResult:
    met: list[str] = []
    missed: list[str] = []
    vote_min = thresholds["min_staff_vote_share_percent"]
    if facts.staff_vote_share_percent is not None:
        target = met if facts.staff_vote_share_percent >= vote_min else missed
        target.append(f"staff hold {facts.staff_vote_share_percent}% of votes (needs {vote_min}%)")
    seat_min = thresholds["min_staff_board_seat_share_percent"]
    if facts.staff_board_seats is not None and facts.board_seats:
        share = Decimal(facts.staff_board_seats * 100) / Decimal(facts.board_seats)
        target = met if share >= seat_min else missed
        target.append(
            f"staff hold {facts.staff_board_seats} of {facts.board_seats} board seats "
            f"({share:.0f}%, needs {seat_min}%)"
        )
    trust_min = thresholds["min_employee_trust_stake_percent"]
    if facts.employee_trust_stake_percent is not None:
        target = met if facts.employee_trust_stake_percent >= trust_min else missed
        target.append(
            f"an employee trust holds {facts.employee_trust_stake_percent}% (needs {trust_min}%)"
        )
    if met:
        return CriterionResult(code, label, True, "; ".join(met).capitalize())
    if missed:
        return CriterionResult(code, label, False, "; ".join(missed).capitalize())
    return CriterionResult(code, label, False, "No employee control recorded yet")
