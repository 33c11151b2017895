"""The readiness self-assessment: the questionnaire (rules/readiness.yaml) and its scoring.

Pure: no Django, no database. ``parse_questionnaire`` validates the data; ``score`` turns a set of
answers into a score and band per theme with the theme's recommendation for that band.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from mutualise.rules import RulesError, load_yaml, require_keys

FILE = "readiness.yaml"
OPTIONS_PER_QUESTION = 4
# GOV.UK Frontend tag colours a band may use.
TAG_COLOURS = frozenset(
    {
        "grey",
        "green",
        "turquoise",
        "blue",
        "light-blue",
        "purple",
        "pink",
        "red",
        "orange",
        "yellow",
        "teal",
        "magenta",
    }
)


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    score: int


@dataclass(frozen=True)
class Question:
    code: str
    theme: str
    text: str
    hint: str
    options: tuple[Option, ...]

    @property
    def maximum(self) -> int:
        return max(option.score for option in self.options)

    def option(self, code: str) -> Option | None:
        return next((option for option in self.options if option.code == code), None)


@dataclass(frozen=True)
class Band:
    code: str
    name: str
    colour: str
    min_percent: int


@dataclass(frozen=True)
class Theme:
    code: str
    name: str
    questions: tuple[Question, ...]
    recommendations: dict[str, str]

    @property
    def maximum(self) -> int:
        return sum(question.maximum for question in self.questions)


@dataclass(frozen=True)
class Questionnaire:
    version: str
    title: str
    bands: tuple[Band, ...]
    themes: tuple[Theme, ...]

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for theme in self.themes for q in theme.questions)

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code == code), None)

    def theme(self, code: str) -> Theme:
        return next(theme for theme in self.themes if theme.code == code)

    def position(self, code: str) -> int:
        """1-based position of a question in the questionnaire."""
        return [q.code for q in self.questions].index(code) + 1

    def next_question(self, code: str) -> Question | None:
        questions = self.questions
        index = [q.code for q in questions].index(code)
        return questions[index + 1] if index + 1 < len(questions) else None

    def previous_question(self, code: str) -> Question | None:
        questions = self.questions
        index = [q.code for q in questions].index(code)
        return questions[index - 1] if index > 0 else None

    def first_unanswered(self, answers: dict[str, str]) -> Question | None:
        return next((q for q in self.questions if not _valid_answer(q, answers)), None)

    def unanswered(self, answers: dict[str, str]) -> list[Question]:
        return [q for q in self.questions if not _valid_answer(q, answers)]

    def band_for(self, percent: float) -> Band:
        for band in self.bands:  # highest first
            if percent >= band.min_percent:
                return band
        return self.bands[-1]


def _valid_answer(question: Question, answers: dict[str, str]) -> bool:
    return question.option(answers.get(question.code, "")) is not None


def _text(where: str, value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{FILE}: {where} needs {name} as non-empty text, not {value!r}")
    return value


def parse_questionnaire(version: str, data: dict[str, Any]) -> Questionnaire:
    """Build and validate one questionnaire version; raise RulesError saying what is wrong."""
    require_keys(FILE, version, data, ["title", "bands", "themes"])
    bands = []
    for item in data["bands"]:
        require_keys(FILE, f"{version} band", item, ["code", "name", "colour", "min_percent"])
        minimum = item["min_percent"]
        if not isinstance(minimum, int) or not 0 <= minimum <= 100:
            raise RulesError(f"{FILE}: band {item['code']} min_percent must be 0-100")
        if item["colour"] not in TAG_COLOURS:
            raise RulesError(
                f"{FILE}: band {item['code']} colour must be one of {', '.join(sorted(TAG_COLOURS))}"
            )
        bands.append(
            Band(_text("a band", item["code"], "code"), item["name"], item["colour"], minimum)
        )
    if not bands:
        raise RulesError(f"{FILE}: {version} has no bands")
    if [b.min_percent for b in bands] != sorted((b.min_percent for b in bands), reverse=True):
        raise RulesError(f"{FILE}: {version} bands must be listed highest first")
    if bands[-1].min_percent != 0:
        raise RulesError(f"{FILE}: {version} lowest band must start at 0 so every score has a band")
    band_codes = {band.code for band in bands}

    themes = []
    seen_questions: set[str] = set()
    seen_themes: set[str] = set()
    for item in data["themes"]:
        require_keys(
            FILE, f"{version} theme", item, ["code", "name", "questions", "recommendations"]
        )
        theme_code = _text("a theme", item["code"], "code")
        if theme_code in seen_themes:
            raise RulesError(f"{FILE}: theme {theme_code} appears twice")
        seen_themes.add(theme_code)
        questions = []
        for q in item["questions"]:
            require_keys(FILE, f"theme {theme_code} question", q, ["code", "text", "options"])
            code = _text(f"theme {theme_code}", q["code"], "a question code")
            if code in seen_questions:
                raise RulesError(f"{FILE}: question {code} appears twice")
            seen_questions.add(code)
            options = []
            for o in q["options"]:
                require_keys(FILE, f"question {code} option", o, ["code", "label", "score"])
                option_code = _text(f"question {code}", o["code"], "an option code")
                if not isinstance(o["score"], int) or isinstance(o["score"], bool):
                    raise RulesError(
                        f"{FILE}: question {code} option {option_code} needs an integer score"
                    )
                options.append(
                    Option(
                        option_code, _text(f"question {code}", o["label"], "a label"), o["score"]
                    )
                )
            if len(options) != OPTIONS_PER_QUESTION:
                raise RulesError(
                    f"{FILE}: question {code} must have {OPTIONS_PER_QUESTION} "
                    f"options, not {len(options)}"
                )
            if len({o.code for o in options}) != len(options):
                raise RulesError(f"{FILE}: question {code} repeats an option code")
            questions.append(
                Question(
                    code,
                    theme_code,
                    _text(code, q["text"], "text"),
                    q.get("hint", "") or "",
                    tuple(options),
                )
            )
        if not questions:
            raise RulesError(f"{FILE}: theme {theme_code} has no questions")
        recommendations = item["recommendations"]
        missing = band_codes - set(recommendations or {})
        if missing:
            raise RulesError(
                f"{FILE}: theme {theme_code} has no recommendation for {', '.join(sorted(missing))}"
            )
        themes.append(
            Theme(
                theme_code,
                _text(theme_code, item["name"], "name"),
                tuple(questions),
                dict(recommendations),
            )
        )
    if not themes:
        raise RulesError(f"{FILE}: {version} has no themes")
    return Questionnaire(str(version), data["title"], tuple(bands), tuple(themes))


@cache
def questionnaires() -> dict[str, Questionnaire]:
    data = load_yaml(FILE)
    require_keys(FILE, "the file", data, ["current", "versions"])
    result = {str(v): parse_questionnaire(str(v), item) for v, item in data["versions"].items()}
    if str(data["current"]) not in result:
        raise RulesError(f"{FILE}: current names a version that is not defined")
    return result


def current_version() -> str:
    return str(load_yaml(FILE)["current"])


def load_questionnaire(version: str | None = None) -> Questionnaire:
    try:
        return questionnaires()[version or current_version()]
    except KeyError:
        raise RulesError(f"{FILE}: no questionnaire version {version}") from None


# --- scoring -------------------------------------------------------------------------------


class IncompleteAnswers(ValueError):
    """Some questions have no answer (or an answer that is not one of their options)."""

    def __init__(self, questions: list[Question]) -> None:
        super().__init__(", ".join(q.code for q in questions))
        self.questions = questions


@dataclass(frozen=True)
class ThemeScore:
    theme: str
    name: str
    score: int
    maximum: int
    percent: int
    band: str
    band_name: str
    band_colour: str
    recommendation: str


@dataclass(frozen=True)
class ReadinessResult:
    version: str
    themes: tuple[ThemeScore, ...]

    @property
    def score(self) -> int:
        return sum(t.score for t in self.themes)

    @property
    def maximum(self) -> int:
        return sum(t.maximum for t in self.themes)

    def as_dict(self) -> dict[str, Any]:
        """The JSON kept with a submitted assessment, so old results survive new versions."""
        return {
            "version": self.version,
            "score": self.score,
            "maximum": self.maximum,
            "themes": [asdict(t) for t in self.themes],
        }


def score(questionnaire: Questionnaire, answers: dict[str, str]) -> ReadinessResult:
    """Score every theme; refuse if any question is unanswered. Percent is rounded down."""
    missing = questionnaire.unanswered(answers)
    if missing:
        raise IncompleteAnswers(missing)
    themes = []
    for theme in questionnaire.themes:
        total = 0
        for question in theme.questions:
            option = question.option(answers[question.code])
            assert option is not None  # checked above
            total += option.score
        maximum = theme.maximum
        percent = (total * 100) // maximum if maximum else 0
        band = questionnaire.band_for(percent)
        themes.append(
            ThemeScore(
                theme=theme.code,
                name=theme.name,
                score=total,
                maximum=maximum,
                percent=percent,
                band=band.code,
                band_name=band.name,
                band_colour=band.colour,
                recommendation=theme.recommendations[band.code],
            )
        )
    return ReadinessResult(questionnaire.version, tuple(themes))
