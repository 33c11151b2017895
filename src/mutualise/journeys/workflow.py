"""The journey workflow, read from rules/journey.yaml. Pure; no database access."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from mutualise.rules import RulesError, load_yaml, require_keys


@dataclass(frozen=True)
class Stage:
    code: str
    staff_name: str
    applicant_name: str
    needs: str
    next: tuple[str, ...]
    requires: tuple[str, ...]
    entry_requires: tuple[str, ...]


@dataclass(frozen=True)
class Workflow:
    version: str
    stages: tuple[Stage, ...]
    withdrawable_from: frozenset[str]
    move_roles: frozenset[str]
    pipeline_stages: tuple[str, ...]
    live_stages: tuple[str, ...]
    outcomes: tuple[tuple[str, str], ...]

    def stage(self, code: str) -> Stage:
        for stage in self.stages:
            if stage.code == code:
                return stage
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(stage.code for stage in self.stages)

    def index(self, code: str) -> int:
        return self.codes.index(code)

    def allowed_targets(self, code: str) -> tuple[str, ...]:
        targets = list(self.stage(code).next)
        if code in self.withdrawable_from:
            targets.append("WITHDRAWN")
        return tuple(targets)


@cache
def load_workflow() -> Workflow:
    from mutualise.journeys.evidence import CHECKS

    data = load_yaml("journey.yaml")
    stages = []
    for item in data["stages"]:
        require_keys(
            "journey.yaml",
            item.get("code", "a stage"),
            item,
            ["code", "staff_name", "applicant_name", "needs", "next", "requires"],
        )
        stages.append(
            Stage(
                code=item["code"],
                staff_name=item["staff_name"],
                applicant_name=item["applicant_name"],
                needs=item["needs"],
                next=tuple(item["next"]),
                requires=tuple(item["requires"]),
                entry_requires=tuple(item.get("entry_requires", [])),
            )
        )
    codes = {stage.code for stage in stages}
    for stage in stages:
        for target in stage.next:
            if target not in codes:
                raise RulesError(f"journey.yaml: {stage.code} moves to unknown stage {target}")
        for check in (*stage.requires, *stage.entry_requires):
            if check not in CHECKS:
                raise RulesError(f"journey.yaml: {stage.code} needs unknown evidence check {check}")
    return Workflow(
        version=str(data["version"]),
        stages=tuple(stages),
        withdrawable_from=frozenset(data["withdrawable_from"]),
        move_roles=frozenset(data["move_roles"]),
        pipeline_stages=tuple(data["pipeline_stages"]),
        live_stages=tuple(data["live_stages"]),
        outcomes=tuple((o["code"], o["name"]) for o in data["outcomes"]),
    )


def stage_choices() -> list[tuple[str, str]]:
    return [(stage.code, stage.staff_name) for stage in load_workflow().stages]


def required_checks(source: str, target: str) -> tuple[str, ...]:
    """Evidence needed to move from ``source`` to ``target``."""
    workflow = load_workflow()
    if target == "WITHDRAWN":
        return ()
    checks = list(workflow.stage(source).requires)
    for check in workflow.stage(target).entry_requires:
        if check not in checks:
            checks.append(check)
    return tuple(checks)
