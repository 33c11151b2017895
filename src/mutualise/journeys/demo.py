"""Demo data for journeys: submitted readiness self-assessments, so groups' pages and officers'
journey pages show results and the comparison between attempts.

Runs after the lead's seeder has created organisations (reference == programme key), journeys
and the "<org key>-member" users. Everything goes through journeys.services; running it twice
changes nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from mutualise.core.models import User
from mutualise.journeys import readiness, services
from mutualise.journeys.models import Journey
from mutualise.journeys.workflow import load_workflow

# About this share of groups before go-live have taken the self-assessment; half of them twice.
SHARE_ASSESSED = 0.5


def _answers(
    rng: random.Random, questionnaire: readiness.Questionnaire, level: int
) -> dict[str, str]:
    """Answers around a readiness ``level`` (0-3), varying by question."""
    answers = {}
    for question in questionnaire.questions:
        wanted = max(0, min(3, level + rng.choice((-1, 0, 0, 1))))
        option = min(question.options, key=lambda o: abs(o.score - wanted))
        answers[question.code] = option.code
    return answers


def _take(journey: Journey, member: User, answers: dict[str, str], when: Any) -> None:
    assessment = services.start_assessment(journey, actor=member)
    for code, option in answers.items():
        services.record_answer(assessment, code, option, actor=member)
    services.submit_assessment(assessment, actor=member, at=when)


def seed_demo(programme: dict[str, Any], seed: int) -> None:
    rng = random.Random(f"mutualise-journeys-demo:{seed}")
    questionnaire = readiness.load_questionnaire()
    pipeline_stages = set(load_workflow().pipeline_stages)
    keys = sorted(
        o["key"] for o in programme.get("organisations", []) if o.get("stage") in pipeline_stages
    )
    chosen = [key for key in keys if rng.random() < SHARE_ASSESSED]
    now = timezone.now()
    for key in chosen:
        twice = rng.random() < 0.5
        first_level = rng.choice((0, 1, 1, 2))
        gap_days = rng.randint(30, 150)
        first_answers = _answers(rng, questionnaire, first_level)
        second_answers = _answers(rng, questionnaire, min(3, first_level + 1))
        journey = Journey.objects.filter(organisation__reference=key).first()
        member = User.objects.filter(username=f"{key}-member").first()
        if journey is None or member is None:
            continue
        if journey.assessments.filter(submitted_at__isnull=False).exists():
            continue  # already seeded
        if twice:
            _take(journey, member, first_answers, now - timedelta(days=gap_days + 7))
            _take(journey, member, second_answers, now - timedelta(days=7))
        else:
            _take(journey, member, first_answers, now - timedelta(days=gap_days))
