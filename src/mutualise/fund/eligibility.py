"""Fund-round eligibility as a pure function over plain data (answers, round parameters, today).

No database access: the service and views pass in what they read, and tests call this directly.
Every failed rule comes back with a plain-words explanation and the question that fixes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mutualise.fund.money import format_pence
from mutualise.fund.rules import EligibilityRules, application_form, eligibility_rules


@dataclass(frozen=True)
class RoundParameters:
    """What an officer set for one round. Missing required parameters make the round unusable."""

    rule_codes: tuple[str, ...]
    years_since_go_live: int = 5
    minimum_words: int = 20
    min_match_share_percent: Decimal | None = None
    subsidy_cap_pence: int | None = None

    def problems(self, rules: EligibilityRules | None = None) -> list[str]:
        rules = rules or eligibility_rules()
        found = []
        for code in self.rule_codes:
            if code not in rules.codes:
                found.append(f"Unknown eligibility rule {code}")
        if "E5" in self.rule_codes and self.min_match_share_percent is None:
            found.append("Enter the minimum cash match share for this round (0 for no minimum)")
        if "E6" in self.rule_codes and self.subsidy_cap_pence is None:
            found.append("Enter the subsidy cap over 3 fiscal years for this round")
        if self.years_since_go_live < 1:
            found.append("The years since going live must be 1 or more")
        return found


@dataclass(frozen=True)
class RuleResult:
    code: str
    title: str
    passed: bool
    explanation: str
    fix_question: str | None = None
    answered: bool = True


@dataclass(frozen=True)
class Outcome:
    results: tuple[RuleResult, ...] = field(default_factory=tuple)

    @property
    def eligible(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        return tuple(result for result in self.results if not result.passed)


def _words(text: Any) -> int:
    return len(str(text or "").split())


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _percent(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.1'))}".rstrip("0").rstrip(".")
    return f"{text}%"


def evaluate(
    answers: dict[str, Any],
    parameters: RoundParameters,
    today: dt.date,
    rules: EligibilityRules | None = None,
) -> Outcome:
    """Check every rule the round uses; each result says in plain words why it passed or failed."""
    rules = rules or eligibility_rules()
    form = application_form()
    values = {
        "years_since_go_live": parameters.years_since_go_live,
        "minimum_words": parameters.minimum_words,
        "min_match_share_percent": _percent(parameters.min_match_share_percent or Decimal(0)),
        "subsidy_cap": format_pence(parameters.subsidy_cap_pence),
    }
    results = []
    for code in parameters.rule_codes:
        rule = rules.rule(code)
        missing = [
            slug
            for slug in rule.questions
            if form.question(slug).is_shown(answers) and answers.get(slug) in (None, "")
        ]
        if missing:
            question = form.question(missing[0])
            results.append(
                RuleResult(
                    code,
                    rule.title,
                    False,
                    rules.unanswered.format(question=question.label),
                    missing[0],
                    answered=False,
                )
            )
            continue
        results.append(_check(code, rule.messages, rule.title, answers, parameters, today, values))
    return Outcome(tuple(results))


def _check(
    code: str,
    messages: dict[str, str],
    title: str,
    answers: dict[str, Any],
    parameters: RoundParameters,
    today: dt.date,
    values: dict[str, Any],
) -> RuleResult:
    def result(passed: bool, key: str, fix: str | None, **extra: Any) -> RuleResult:
        return RuleResult(
            code, title, passed, messages[key].format(**values, **extra), None if passed else fix
        )

    if code == "E1":
        return result(
            answers["delivers_in_england"] == "yes",
            "pass" if answers["delivers_in_england"] == "yes" else "fail",
            "delivers_in_england",
        )
    if code == "E2":
        ok = answers["mutual_status"] in {"is_mutual", "intends_to_become"}
        return result(ok, "pass" if ok else "fail", "mutual_status")
    if code == "E3":
        if answers["is_live"] != "yes":
            return result(True, "not_live", None)
        go_live = _date(answers.get("go_live_date"))
        recent = (
            go_live is not None and _add_years(go_live, parameters.years_since_go_live) >= today
        )
        original_contract = answers.get("contract_retendered") == "no"
        ok = recent or original_contract
        shown = f"{go_live.day} {go_live:%B %Y}" if go_live else "an unknown date"
        return result(ok, "pass" if ok else "fail", "go_live_date", go_live_date=shown)
    if code == "E4":
        words = _words(answers["growth_case"])
        ok = words >= parameters.minimum_words
        return result(ok, "pass" if ok else "fail", "growth_case", words=words)
    if code == "E5":
        cost = int(answers["project_cost"])
        match = int(answers["cash_match"])
        if match <= 0:
            return result(False, "fail_none", "cash_match")
        if match > cost:
            return result(False, "fail_cost", "cash_match")
        share = Decimal(match) * 100 / Decimal(cost)
        minimum = parameters.min_match_share_percent or Decimal(0)
        ok = share >= minimum
        return result(ok, "pass" if ok else "fail_share", "cash_match", share=_percent(share))
    if code == "E6":
        cap = int(parameters.subsidy_cap_pence or 0)
        received = int(answers["subsidy_received"])
        requested = int(answers["amount_requested"])
        total = received + requested
        ok = total <= cap
        return result(
            ok,
            "pass" if ok else "fail",
            "amount_requested",
            subsidy_received=format_pence(received),
            amount_requested=format_pence(requested),
            total=format_pence(total),
            headroom=format_pence(max(cap - received, 0)),
        )
    raise KeyError(f"No check is written for eligibility rule {code}")
