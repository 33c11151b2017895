"""The fund's rules files (rules/fund_*.yaml), loaded and validated. Pure: no database access."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mutualise.rules import RulesError, load_yaml, require_keys

QUESTION_KINDS = {"yes_no", "choice", "text", "long_text", "money", "date", "percent"}


@dataclass(frozen=True)
class Status:
    code: str
    staff_name: str
    applicant_name: str
    tag: str


@dataclass(frozen=True)
class Question:
    slug: str
    kind: str
    label: str
    section: str
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    shown_if: tuple[tuple[str, str], ...] = ()

    def is_shown(self, answers: dict[str, Any]) -> bool:
        return all(answers.get(key) == value for key, value in self.shown_if)


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class ApplicationForm:
    version: str
    statuses: tuple[Status, ...]
    sections: tuple[Section, ...]
    documents_title: str
    documents_hint: str
    max_attachment_bytes: int
    max_attachments: int
    declaration: str

    def status(self, code: str) -> Status:
        for status in self.statuses:
            if status.code == code:
                return status
        raise KeyError(code)

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for section in self.sections for q in section.questions)

    def question(self, slug: str) -> Question:
        for question in self.questions:
            if question.slug == slug:
                return question
        raise KeyError(slug)


@dataclass(frozen=True)
class RuleParameter:
    name: str
    kind: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class EligibilityRule:
    code: str
    title: str
    questions: tuple[str, ...]
    messages: dict[str, str]
    parameters: tuple[RuleParameter, ...] = ()


@dataclass(frozen=True)
class EligibilityRules:
    version: str
    rules: tuple[EligibilityRule, ...]
    unanswered: str

    def rule(self, code: str) -> EligibilityRule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.rules)


@dataclass(frozen=True)
class Criterion:
    code: str
    title: str
    guidance: str
    weight: int


@dataclass(frozen=True)
class CriteriaTemplate:
    version: str
    minimum: int
    maximum: int
    labels: dict[int, str] = field(default_factory=dict)
    criteria: tuple[Criterion, ...] = ()


@cache
def application_form() -> ApplicationForm:
    name = "fund_application.yaml"
    data = load_yaml(name)
    require_keys(
        name,
        "the file",
        data,
        ["version", "statuses", "sections", "documents_section", "declaration"],
    )
    statuses = []
    for item in data["statuses"]:
        require_keys(
            name,
            item.get("code", "a status"),
            item,
            ["code", "staff_name", "applicant_name", "tag"],
        )
        statuses.append(
            Status(item["code"], item["staff_name"], item["applicant_name"], item["tag"])
        )
    sections = []
    slugs: set[str] = set()
    for section in data["sections"]:
        require_keys(
            name, section.get("code", "a section"), section, ["code", "title", "questions"]
        )
        questions = []
        for item in section["questions"]:
            require_keys(name, item.get("slug", "a question"), item, ["slug", "kind", "label"])
            if item["kind"] not in QUESTION_KINDS:
                raise RulesError(f"{name}: {item['slug']} has unknown kind {item['kind']}")
            if item["slug"] in slugs:
                raise RulesError(f"{name}: question {item['slug']} appears twice")
            slugs.add(item["slug"])
            choices = tuple((c["value"], c["label"]) for c in item.get("choices", []))
            if item["kind"] == "choice" and not choices:
                raise RulesError(f"{name}: {item['slug']} is a choice with no choices")
            questions.append(
                Question(
                    slug=item["slug"],
                    kind=item["kind"],
                    label=item["label"],
                    section=section["code"],
                    hint=item.get("hint", ""),
                    choices=choices,
                    shown_if=tuple((k, str(v)) for k, v in (item.get("shown_if") or {}).items()),
                )
            )
        sections.append(Section(section["code"], section["title"], tuple(questions)))
    for section in sections:
        for question in section.questions:
            for key, _ in question.shown_if:
                if key not in slugs:
                    raise RulesError(f"{name}: {question.slug} depends on unknown {key}")
    documents = data["documents_section"]
    required_statuses = {
        "draft",
        "submitted",
        "in_assessment",
        "more_information_requested",
        "approved",
        "rejected",
        "withdrawn",
    }
    missing = required_statuses - {s.code for s in statuses}
    if missing:
        raise RulesError(f"{name}: statuses missing {', '.join(sorted(missing))}")
    return ApplicationForm(
        version=str(data["version"]),
        statuses=tuple(statuses),
        sections=tuple(sections),
        documents_title=documents["title"],
        documents_hint=documents.get("hint", ""),
        max_attachment_bytes=int(documents["max_bytes"]),
        max_attachments=int(documents["max_files"]),
        declaration=" ".join(str(data["declaration"]).split()),
    )


@cache
def eligibility_rules() -> EligibilityRules:
    name = "fund_eligibility.yaml"
    data = load_yaml(name)
    require_keys(name, "the file", data, ["version", "rules", "unanswered"])
    slugs = {q.slug for q in application_form().questions}
    rules = []
    for item in data["rules"]:
        require_keys(name, item.get("code", "a rule"), item, ["code", "title", "questions", "pass"])
        for slug in item["questions"]:
            if slug not in slugs:
                raise RulesError(f"{name}: {item['code']} asks about unknown question {slug}")
        parameters = tuple(
            RuleParameter(
                name=key,
                kind=spec["kind"],
                default=spec.get("default"),
                required=bool(spec.get("required", False)),
            )
            for key, spec in (item.get("parameters") or {}).items()
        )
        messages = {
            key: " ".join(str(value).split())
            for key, value in item.items()
            if key not in {"code", "title", "questions", "parameters"}
        }
        rules.append(
            EligibilityRule(
                item["code"], item["title"], tuple(item["questions"]), messages, parameters
            )
        )
    return EligibilityRules(str(data["version"]), tuple(rules), str(data["unanswered"]))


@cache
def criteria_template() -> CriteriaTemplate:
    name = "fund_criteria.yaml"
    data = load_yaml(name)
    require_keys(name, "the file", data, ["version", "scale", "criteria"])
    criteria = []
    for item in data["criteria"]:
        require_keys(
            name, item.get("code", "a criterion"), item, ["code", "title", "guidance", "weight"]
        )
        if int(item["weight"]) < 1:
            raise RulesError(f"{name}: {item['code']} needs a weight of 1 or more")
        criteria.append(
            Criterion(item["code"], item["title"], item["guidance"], int(item["weight"]))
        )
    scale = data["scale"]
    return CriteriaTemplate(
        version=str(data["version"]),
        minimum=int(scale["minimum"]),
        maximum=int(scale["maximum"]),
        labels={int(k): str(v) for k, v in scale.get("labels", {}).items()},
        criteria=tuple(criteria),
    )


def status_choices() -> list[tuple[str, str]]:
    return [(s.code, s.staff_name) for s in application_form().statuses]
