"""Helpers for journey tests: groups with members, journeys at a stage, submitted assessments."""

from __future__ import annotations

from typing import Any

from mutualise.core.models import User
from mutualise.journeys import readiness
from mutualise.journeys.models import Journey, ReadinessAssessment
from tests.factories import JourneyFactory, OrganisationFactory, UserFactory, grant


def group_with_member(username: str, **organisation: Any) -> tuple[Journey, User]:
    journey = JourneyFactory(organisation=OrganisationFactory(**organisation))
    member = grant(UserFactory(username=username), "staff_group_member", journey.organisation)
    return journey, member


def at_stage(stage: str, **kwargs: Any) -> Journey:
    return JourneyFactory(stage=stage, **kwargs)


def answers_at(score: int) -> dict[str, str]:
    questionnaire = readiness.load_questionnaire()
    return {
        q.code: next(o.code for o in q.options if o.score == score) for q in questionnaire.questions
    }


def submitted_assessment(journey: Journey, score: int, when: Any = None) -> ReadinessAssessment:
    from django.utils import timezone

    questionnaire = readiness.load_questionnaire()
    answers = answers_at(score)
    return ReadinessAssessment.objects.create(
        journey=journey,
        questionnaire_version=questionnaire.version,
        answers=answers,
        submitted_at=when or timezone.now(),
        result=readiness.score(questionnaire, answers).as_dict(),
    )
