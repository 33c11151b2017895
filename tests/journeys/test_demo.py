"""journeys.demo.seed_demo: submitted readiness assessments, idempotently."""

from __future__ import annotations

import pytest

from mutualise.journeys.demo import seed_demo
from mutualise.journeys.models import ReadinessAssessment
from tests.factories import JourneyFactory, OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    organisations = []
    for number in range(1, 13):
        key = f"org-{number:03d}"
        stage = "BUSINESS_CASE" if number <= 10 else "LIVE"
        organisation = OrganisationFactory(reference=key)
        JourneyFactory(organisation=organisation, stage=stage)
        grant(UserFactory(username=f"{key}-member"), "staff_group_member", organisation)
        organisations.append({"key": key, "stage": stage})
    return {"organisations": organisations}


def test_seed_gives_some_groups_one_or_two_submitted_attempts(programme):
    seed_demo(programme, seed=7)
    assessments = ReadinessAssessment.objects.select_related("journey__organisation")
    assert assessments.exists()
    assert all(a.is_submitted and a.result["themes"] for a in assessments)
    per_group: dict[str, list] = {}
    for assessment in assessments:
        per_group.setdefault(assessment.journey.organisation.reference, []).append(assessment)
    assert set(per_group) <= {o["key"] for o in programme["organisations"][:10]}  # not live ones
    assert {len(v) for v in per_group.values()} <= {1, 2}
    for attempts in per_group.values():
        if len(attempts) == 2:
            assert attempts[0].submitted_at != attempts[1].submitted_at


def test_seed_is_idempotent(programme):
    seed_demo(programme, seed=7)
    count = ReadinessAssessment.objects.count()
    seed_demo(programme, seed=7)
    assert ReadinessAssessment.objects.count() == count
