"""The personal data retention policy, read from rules/personal_data_retention.yaml.

Pure: no database access. The privacy notice renders it and personal_data.purge applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from mutualise.rules import RulesError, load_yaml, require_keys

FILE = "personal_data_retention.yaml"
AT_END = {
    "delete": "Deleted",
    "anonymise": "Anonymised",
    "erase_text": "Text erased",
    "review": "Reviewed, then deleted or kept",
}
# The handlers personal_data.purge knows; "none" means no automatic action.
PURGE_HANDLERS = frozenset(
    {
        "none",
        "sessions",
        "sign_in_attempts",
        "notifications",
        "inactive_accounts",
        "closed_application_attachments",
        "engagement_notes",
    }
)
CATEGORY_KEYS = [
    "code",
    "name",
    "data",
    "held_in",
    "purpose",
    "lawful_basis",
    "kept",
    "period_days",
    "at_end",
    "purge",
]


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    data: str
    held_in: str
    purpose: str
    lawful_basis: str
    lawful_basis_text: str
    kept: str
    period_days: int | None
    at_end: str
    purge: str
    application_statuses: tuple[str, ...] = ()

    @property
    def at_end_name(self) -> str:
        return AT_END[self.at_end]

    @property
    def lawful_basis_name(self) -> str:
        """'Article 6(1)(e), public task' from the basis' full text."""
        return self.lawful_basis_text.split(":", 1)[0].removeprefix("UK GDPR ").strip()


@dataclass(frozen=True)
class RetentionPolicy:
    version: str
    policy_note: str
    storage_limitation: str
    lawful_bases: dict[str, str]
    law_note: str
    categories: tuple[Category, ...]

    def category(self, code: str) -> Category:
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(code)

    @property
    def used_lawful_bases(self) -> list[str]:
        """The full text of each basis some category relies on, in the file's order."""
        used = {c.lawful_basis for c in self.categories}
        return [text for key, text in self.lawful_bases.items() if key in used]

    @property
    def purged(self) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if c.purge != "none")


def parse_policy(data: Any, name: str = FILE) -> RetentionPolicy:
    """Validate the file's shape; a mistake names the category and the field."""
    if not isinstance(data, dict):
        raise RulesError(f"{name}: expected a mapping at the top")
    require_keys(name, "the file", data, ["version", "policy_note", "law", "categories"])
    law = data["law"]
    require_keys(name, "law", law, ["storage_limitation", "lawful_bases"])
    bases = {str(k): str(v) for k, v in law["lawful_bases"].items()}
    for key, text in bases.items():
        if "Article 6(1)(" not in text:
            raise RulesError(f"{name}: lawful basis {key} must cite UK GDPR Article 6(1)")
    if "Article 5(1)(e)" not in str(law["storage_limitation"]):
        raise RulesError(f"{name}: law.storage_limitation must cite UK GDPR Article 5(1)(e)")
    categories = []
    seen: set[str] = set()
    for item in data["categories"] or []:
        where = f"category {item.get('code', '?')}"
        require_keys(name, where, item, CATEGORY_KEYS)
        code = str(item["code"])
        if code in seen:
            raise RulesError(f"{name}: {where} appears twice")
        seen.add(code)
        if item["lawful_basis"] not in bases:
            raise RulesError(
                f"{name}: {where} has lawful_basis {item['lawful_basis']!r}; "
                f"use one of {', '.join(sorted(bases))}"
            )
        if item["at_end"] not in AT_END:
            raise RulesError(f"{name}: {where} has at_end {item['at_end']!r}")
        if item["purge"] not in PURGE_HANDLERS:
            raise RulesError(f"{name}: {where} has an unknown purge handler {item['purge']!r}")
        period = item["period_days"]
        if item["purge"] != "none" and (
            not isinstance(period, int) or isinstance(period, bool) or period < 0
        ):
            raise RulesError(f"{name}: {where} needs period_days, a whole number of days ≥ 0")
        if period is not None and (not isinstance(period, int) or period < 0):
            raise RulesError(f"{name}: {where} has period_days {period!r}")
        statuses = tuple(str(s) for s in item.get("application_statuses") or ())
        if item["purge"] == "closed_application_attachments" and not statuses:
            raise RulesError(f"{name}: {where} needs application_statuses")
        categories.append(
            Category(
                code=code,
                name=str(item["name"]),
                data=str(item["data"]),
                held_in=str(item["held_in"]),
                purpose=str(item["purpose"]),
                lawful_basis=str(item["lawful_basis"]),
                lawful_basis_text=bases[item["lawful_basis"]],
                kept=str(item["kept"]),
                period_days=period,
                at_end=str(item["at_end"]),
                purge=str(item["purge"]),
                application_statuses=statuses,
            )
        )
    if not categories:
        raise RulesError(f"{name}: no categories")
    return RetentionPolicy(
        version=str(data["version"]),
        policy_note=str(data["policy_note"]),
        storage_limitation=str(law["storage_limitation"]),
        lawful_bases=bases,
        law_note=str(law.get("note", "")),
        categories=tuple(categories),
    )


@cache
def load_policy() -> RetentionPolicy:
    return parse_policy(load_yaml(FILE))
