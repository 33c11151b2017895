"""Risk of losing a contract at re-tender: a pure function with its reasons (no database).

The points and levels are data (rules/watch_risk.yaml); the signals come from the cases in
DOMAIN.md §3: how soon the contract ends, how much of the organisation's income it is (anchor
contracts), whether the next contract could be reserved for a mutual, whether this buyer gave the
service to a large firm before, and whether options to extend are left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mutualise.rules import load_yaml

RISK_FILE = "watch_risk.yaml"


@dataclass(frozen=True)
class RiskFacts:
    today: date
    end_date: date | None
    value_pence: int | None
    start_date: date | None
    annual_income_pence: int | None
    reservable_next: bool | None
    large_firm_history: bool
    options_left: bool | None


@dataclass(frozen=True)
class Risk:
    level: str
    score: int
    reasons: tuple[str, ...]
    months_to_end: int | None
    income_share_percent: Decimal | None


def months_until(today: date, end: date) -> int:
    months = (end.year - today.year) * 12 + end.month - today.month
    if end.day < today.day:
        months -= 1
    return months


def annual_value_pence(value_pence: int | None, start: date | None, end: date | None) -> int | None:
    if value_pence is None or start is None or end is None or end <= start:
        return value_pence
    days = max((end - start).days + 1, 365)
    return int(Decimal(value_pence) * 365 / days)


def income_share(facts: RiskFacts) -> Decimal | None:
    annual = annual_value_pence(facts.value_pence, facts.start_date, facts.end_date)
    if annual is None or not facts.annual_income_pence:
        return None
    return (Decimal(annual) * 100 / Decimal(facts.annual_income_pence)).quantize(Decimal("0.1"))


def assess(facts: RiskFacts, rules: dict | None = None) -> Risk:
    rules = rules or load_yaml(RISK_FILE)
    points = rules["signals"]
    score = 0
    reasons: list[str] = []
    months = months_until(facts.today, facts.end_date) if facts.end_date else None
    if months is not None:
        if months < 0:
            reasons.append("the contract has ended")
        elif months < 6:
            score += points["ends_within_6_months"]
            reasons.append(f"ends in {months} months: the re-tender should already be under way")
        elif months < 12:
            score += points["ends_within_12_months"]
            reasons.append(f"ends in {months} months")
        elif months < 18:
            score += points["ends_within_18_months"]
            reasons.append(f"ends in {months} months")
    share = income_share(facts)
    if share is not None:
        if share >= rules["anchor_share_percent"]:
            score += points["anchor_contract"]
            reasons.append(f"anchor contract: about {share}% of annual income")
        elif share >= rules["large_share_percent"]:
            score += points["large_share"]
            reasons.append(f"about {share}% of annual income")
    if facts.reservable_next is False:
        score += points["not_reservable_next"]
        reasons.append("the next contract could not be reserved for a mutual")
    elif facts.reservable_next is None:
        reasons.append("whether the next contract can be reserved cannot be confirmed")
    if facts.large_firm_history:
        score += points["large_firm_history"]
        reasons.append("this buyer gave this service to a large firm at an earlier re-tender")
    if facts.options_left is False:
        score += points["no_extension_options"]
        reasons.append("no options to extend are left")
    level = "low"
    for item in rules["levels"]:
        if score >= item["min_score"]:
            level = item["level"]
            break
    return Risk(level, score, tuple(reasons), months, share)
