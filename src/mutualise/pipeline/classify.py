# ruff: noqa: S608 - SQL is built from our own column names and quoted literals, never user text
"""Supplier classes from the ordered rules in rules/supplier_classes.yaml. No Django.

`classification_sql(facts)` returns a SELECT that adds `supplier_class`, `class_reason` and
`class_rule` (the rule's position, from 1) to a relation of facts with the columns listed in
FACT_COLUMNS. Every rule is a list of named conditions (CONDITIONS); the first rule whose
conditions all hold wins, so the order in the YAML file is the order of precedence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from mutualise.rules import RulesError, load_yaml, require_keys

RULES_FILE = "supplier_classes.yaml"
CLASSES = (
    "PUBLIC_SERVICE_MUTUAL",
    "OTHER_SOCIAL_ENTERPRISE_OR_VCSE",
    "SME",
    "LARGE_PRIVATE",
    "PUBLIC_BODY",
    "UNKNOWN",
)

# The facts a rule can test, per supplier (an organisation, or an unresolved mention).
FACT_COLUMNS = (
    "programme_mutual",
    "programme_public_body",
    "programme_social_enterprise",
    "canonical_scheme",
    "name_normalised",
    "has_register_entry",
    "is_cic",
    "is_society",
    "is_charity",
    "is_cio",
    "is_guarantee",
    "is_plc",
    "size_signal",
    "psm_count",
    "vcse_true",
    "vcse_known",
    "scale_large",
    "scale_sme",
    "name_form_hint",
    "reserved_wins",
    "awards",
)


@dataclass(frozen=True)
class Rule:
    supplier_class: str
    when: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ClassRules:
    version: str
    accept: float
    review: float
    ambiguity_margin: float
    public_body_schemes: tuple[str, ...]
    public_body_name_patterns: tuple[str, ...]
    large_account_categories: tuple[str, ...]
    sme_account_categories: tuple[str, ...]
    reserved_wins_min: int
    reserved_share_min: float
    rules: tuple[Rule, ...]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")" if values else "(NULL)"


def conditions(rules: ClassRules) -> dict[str, str]:
    """Named conditions as SQL predicates over the facts relation."""
    names = "|".join(f"(?:{p})" for p in rules.public_body_name_patterns) or "(?!)"
    return {
        "programme_mutual": "coalesce(programme_mutual, false)",
        "programme_public_body": "coalesce(programme_public_body, false)",
        "programme_social_enterprise": "coalesce(programme_social_enterprise, false)",
        "public_body_identifier": f"coalesce(canonical_scheme IN {_list(rules.public_body_schemes)}, false)",
        "public_body_name": f"coalesce(regexp_matches(name_normalised, {_quote(names)}), false)",
        "no_register_entry": "NOT coalesce(has_register_entry, false)",
        "ocds_public_service_mission": "coalesce(psm_count, 0) > 0",
        "reserved_contract_winner": (
            f"coalesce(reserved_wins, 0) >= {rules.reserved_wins_min} "
            f"AND coalesce(reserved_wins, 0) >= {rules.reserved_share_min} * greatest(coalesce(awards, 0), 1)"
        ),
        "register_social_legal_form": "coalesce(is_cic OR is_society OR is_charity OR is_cio OR is_guarantee, false)",
        "ocds_vcse_majority": "coalesce(vcse_true, 0) * 2 > coalesce(vcse_known, 0) AND coalesce(vcse_known, 0) > 0",
        "register_plc": "coalesce(is_plc, false)",
        "accounts_large": f"coalesce(size_signal IN {_list(rules.large_account_categories)}, false)",
        "accounts_sme": f"coalesce(size_signal IN {_list(rules.sme_account_categories)}, false)",
        "ocds_scale_large_majority": "coalesce(scale_large, 0) > coalesce(scale_sme, 0)",
        "ocds_scale_sme_majority": "coalesce(scale_sme, 0) > coalesce(scale_large, 0)",
        "name_social_legal_form": "coalesce(name_form_hint IN ('cic', 'cio', 'society'), false)",
    }


@cache
def load_rules() -> ClassRules:
    data = load_yaml(RULES_FILE)
    require_keys(RULES_FILE, "the file", data, ["version", "thresholds", "rules"])
    thresholds = data["thresholds"]
    require_keys(RULES_FILE, "thresholds", thresholds, ["accept", "review"])
    accept, review = float(thresholds["accept"]), float(thresholds["review"])
    if not 0 < review <= accept <= 1:
        raise RulesError(f"{RULES_FILE}: thresholds need 0 < review <= accept <= 1")
    for pattern in data.get("public_body_name_patterns", []):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RulesError(
                f"{RULES_FILE}: public body pattern {pattern!r} is invalid: {exc}"
            ) from exc
    rules = []
    for index, item in enumerate(data["rules"], start=1):
        require_keys(RULES_FILE, f"rule {index}", item, ["class", "when", "reason"])
        if item["class"] not in CLASSES:
            raise RulesError(f"{RULES_FILE}: rule {index} has unknown class {item['class']!r}")
        rules.append(Rule(item["class"], tuple(item["when"] or ()), item["reason"]))
    result = ClassRules(
        version=str(data["version"]),
        accept=accept,
        review=review,
        ambiguity_margin=float(thresholds.get("ambiguity_margin", 0.0)),
        public_body_schemes=tuple(data.get("public_body_schemes", [])),
        public_body_name_patterns=tuple(data.get("public_body_name_patterns", [])),
        large_account_categories=tuple(data.get("large_account_categories", [])),
        sme_account_categories=tuple(data.get("sme_account_categories", [])),
        reserved_wins_min=int(data.get("reserved_for_mutuals", {}).get("wins_min", 2)),
        reserved_share_min=float(data.get("reserved_for_mutuals", {}).get("share_min", 0.3)),
        rules=tuple(rules),
    )
    known = conditions(result)
    for index, rule in enumerate(result.rules, start=1):
        unknown = [name for name in rule.when if name not in known]
        if unknown:
            raise RulesError(
                f"{RULES_FILE}: rule {index} uses unknown conditions {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
    if result.rules[-1].when:
        raise RulesError(f"{RULES_FILE}: the last rule must have no conditions (the default)")
    return result


def classification_sql(facts: str, rules: ClassRules | None = None) -> str:
    """SELECT *, supplier_class, class_reason, class_rule FROM (facts)."""
    rules = rules or load_rules()
    known = conditions(rules)
    cases = []
    for index, rule in enumerate(rules.rules, start=1):
        predicate = " AND ".join(f"({known[name]})" for name in rule.when) or "true"
        cases.append(f"WHEN {predicate} THEN {index}")
    classes = "[" + ", ".join(_quote(r.supplier_class) for r in rules.rules) + "]"
    reasons = "[" + ", ".join(_quote(r.reason) for r in rules.rules) + "]"
    return f"""
    SELECT *, {classes}[class_rule] AS supplier_class, {reasons}[class_rule] AS class_reason
    FROM (SELECT *, CASE {" ".join(cases)} END AS class_rule FROM ({facts}))"""


def describe(rules: ClassRules | None = None) -> list[dict[str, Any]]:
    rules = rules or load_rules()
    return [
        {"order": i, "class": r.supplier_class, "when": list(r.when), "reason": r.reason}
        for i, r in enumerate(rules.rules, start=1)
    ]
