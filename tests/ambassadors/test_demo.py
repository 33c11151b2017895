from __future__ import annotations

import pytest

from mutualise.ambassadors.models import AmbassadorProfile, MatchRun, ProposedMatch
from mutualise.core.demo import seed_world
from mutualise.synth.programme import generate_programme

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent():
    programme = generate_programme(7, "small")
    seed_world(programme, 7)
    profiles = AmbassadorProfile.objects.count()
    matches = ProposedMatch.objects.count()
    assert profiles == len(programme["ambassadors"])
    assert matches > 0
    assert MatchRun.objects.filter(status="confirmed").count() == 1
    seed_world(programme, 7)
    assert AmbassadorProfile.objects.count() == profiles
    assert ProposedMatch.objects.count() == matches
