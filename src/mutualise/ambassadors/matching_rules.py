"""The matching rules from rules/ambassador_matching.yaml, loaded and validated. No database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from mutualise.rules import RulesError, load_yaml, require_keys

FILE = "ambassador_matching.yaml"
PART_NAMES = (
    "sector",
    "stage",
    "region",
    "parent_body_type",
    "past_success",
    "needs",
    "excluded_topic",
)
PART_LABELS = MappingProxyType(
    {
        "sector": "Sector",
        "stage": "Journey stage",
        "region": "Region and travel",
        "parent_body_type": "Same kind of parent body",
        "past_success": "Past success with similar groups",
        "needs": "Offers what the group needs",
        "excluded_topic": "Needs the ambassador does not want",
    }
)


@dataclass(frozen=True)
class Topic:
    code: str
    name: str
    keywords: tuple[str, ...]
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class MatchingRules:
    version: str
    weights: MappingProxyType[str, float]
    neighbour_share: float
    minimum_fit: float
    past_success_minimum_ratings: int
    waiting_too_long_days: int
    neighbours: MappingProxyType[str, frozenset[str]]
    topics: tuple[Topic, ...]

    @property
    def topic_codes(self) -> tuple[str, ...]:
        return tuple(topic.code for topic in self.topics)

    def topic_name(self, code: str) -> str:
        for topic in self.topics:
            if topic.code == code:
                return topic.name
        return code

    def topic_choices(self) -> list[tuple[str, str]]:
        return [(topic.code, topic.name) for topic in self.topics]


def topics_in_text(text: str, rules: MatchingRules) -> frozenset[str]:
    """The topics a piece of free text (a group's stated needs) mentions."""
    if not text:
        return frozenset()
    return frozenset(topic.code for topic in rules.topics if topic.pattern.search(text))


def build_rules(data: dict[str, Any], name: str = FILE) -> MatchingRules:
    """Validate the shape of the rules data and build the rules. Raises RulesError naming the fault."""
    require_keys(
        name,
        "the file",
        data,
        [
            "version",
            "weights",
            "neighbour_share",
            "minimum_fit",
            "waiting_too_long_days",
            "neighbours",
            "topics",
        ],
    )
    weights = data["weights"]
    missing = [part for part in PART_NAMES if part not in weights]
    if missing:
        raise RulesError(f"{name}: weights is missing {', '.join(missing)}")
    unknown = sorted(set(weights) - set(PART_NAMES))
    if unknown:
        raise RulesError(f"{name}: unknown weights {', '.join(unknown)}")
    for part in PART_NAMES:
        value = weights[part]
        if not isinstance(value, int | float) or value < 0:
            raise RulesError(f"{name}: weight {part} must be a number of 0 or more")
    share = data["neighbour_share"]
    if not isinstance(share, int | float) or not 0 <= share <= 1:
        raise RulesError(f"{name}: neighbour_share must be between 0 and 1")
    days = data["waiting_too_long_days"]
    if not isinstance(days, int) or days < 1:
        raise RulesError(f"{name}: waiting_too_long_days must be a whole number of days, 1 or more")
    neighbours: dict[str, frozenset[str]] = {}
    for region, near in (data["neighbours"] or {}).items():
        neighbours[str(region)] = frozenset(str(r) for r in (near or []))
    for region, near in neighbours.items():
        for other in near:
            if region not in neighbours.get(other, frozenset()):
                raise RulesError(
                    f"{name}: neighbours must be symmetric: {region} lists {other} "
                    f"but {other} does not list {region}"
                )
    topics = []
    seen: set[str] = set()
    for item in data["topics"]:
        require_keys(name, f"topic {item.get('code', '?')}", item, ["code", "name", "keywords"])
        if item["code"] in seen:
            raise RulesError(f"{name}: topic {item['code']} appears twice")
        seen.add(item["code"])
        keywords = tuple(str(k).lower() for k in item["keywords"])
        alternatives = "|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)
        topics.append(Topic(item["code"], item["name"], keywords, pattern))
    return MatchingRules(
        version=str(data["version"]),
        weights=MappingProxyType({part: float(weights[part]) for part in PART_NAMES}),
        neighbour_share=float(share),
        minimum_fit=float(data["minimum_fit"]),
        past_success_minimum_ratings=int(data.get("past_success_minimum_ratings", 1)),
        waiting_too_long_days=days,
        neighbours=MappingProxyType(neighbours),
        topics=tuple(topics),
    )


@cache
def load_rules() -> MatchingRules:
    return build_rules(load_yaml(FILE))
