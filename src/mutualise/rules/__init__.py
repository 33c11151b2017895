"""Versioned domain data (workflows, questionnaires, eligibility, CPV lists) and its loader.

Each file in this folder is data the programme can change without a code change. Loading
validates the shape, so a broken file stops the service at start-up with the file's name and
the reason, not later in a user's request.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parent


class RulesError(ValueError):
    """A rules file is missing or does not have the shape its loader expects."""


@cache
def load_yaml(name: str) -> Any:
    path = RULES_DIR / name
    if not path.exists():
        raise RulesError(f"rules file {name} is missing from {RULES_DIR}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulesError(f"rules file {name} is not valid YAML: {exc}") from exc


@cache
def load_csv(name: str) -> tuple[dict[str, str], ...]:
    path = RULES_DIR / name
    if not path.exists():
        raise RulesError(f"rules file {name} is missing from {RULES_DIR}")
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def require_keys(name: str, where: str, item: dict[str, Any], keys: list[str]) -> None:
    missing = [key for key in keys if key not in item]
    if missing:
        raise RulesError(f"{name}: {where} is missing {', '.join(missing)}")
