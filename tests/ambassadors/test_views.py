from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mutualise.ambassadors import services
from mutualise.ambassadors.models import (
    AmbassadorProfile,
    Engagement,
    EngagementRating,
    MatchRun,
    MatchStatus,
    PairConstraint,
    ProposedMatch,
)
from tests.ambassadors.factories import AmbassadorProfileFactory
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def ambassador():
    return AmbassadorProfileFactory(user=UserFactory(username="amb"))


def test_officer_runs_reviews_pins_and_confirms(officer_client, ambassador, journey):
    page = officer_client.get(reverse("ambassadors:index"))
    assert page.status_code == 200
    assert journey.organisation.name in page.content.decode()
    response = officer_client.post(reverse("ambassadors:run-matching"))
    run = MatchRun.objects.get()
    assert response.url == reverse("ambassadors:run", args=[run.pk])
    review = officer_client.get(response.url).content.decode()
    assert "Review the proposed matches" in review
    assert "Knows community health" in review
    assert "Sector" in review and "Journey stage" in review
    officer_client.post(
        reverse("ambassadors:pair-rule"),
        {
            "run": run.pk,
            "pair-organisation": journey.organisation_id,
            "pair-profile": ambassador.pk,
            "pair-rule": "forbid",
        },
    )
    assert PairConstraint.objects.filter(rule="forbid").exists()
    officer_client.post(reverse("ambassadors:run-matching"))
    rerun = MatchRun.objects.first()
    assert rerun.result == []
    constraint = PairConstraint.objects.get()
    officer_client.post(reverse("ambassadors:remove-pair-rule", args=[constraint.pk]))
    officer_client.post(reverse("ambassadors:run-matching"))
    latest = MatchRun.objects.first()
    response = officer_client.post(reverse("ambassadors:confirm-run", args=[latest.pk]))
    assert response.status_code == 302
    assert ProposedMatch.objects.filter(status=MatchStatus.PROPOSED).count() == 1


def test_infeasible_run_shows_the_constraint(officer_client, officer, ambassador, journey):
    for rule in ("pin", "forbid"):
        services.set_pair_rule(journey.organisation, ambassador, rule, actor=officer)
    response = officer_client.post(reverse("ambassadors:run-matching"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "<title>Error: Ambassadors" in body
    assert "both pinned to and forbidden" in body


def test_ambassador_accepts_logs_and_group_rates(client, officer, ambassador, journey, member):
    run = services.run_matching(actor=officer)
    [match] = services.confirm_run(run, actor=officer)
    client.force_login(ambassador.user)
    home = client.get(reverse("ambassadors:index")).content.decode()
    assert journey.organisation.name in home
    client.post(reverse("ambassadors:accept", args=[match.pk]))
    assert ProposedMatch.objects.get(pk=match.pk).status == MatchStatus.ACCEPTED
    journey_page = client.get(reverse("journeys:detail", args=[journey.pk]))
    assert journey_page.status_code == 200
    today = timezone.localdate()
    bad = client.post(
        reverse("ambassadors:log-engagement", args=[match.pk]),
        {"held_on": "31/02/2026", "actions_agreed": ""},
    )
    assert bad.status_code == 400
    assert "Error:" in bad.content.decode()
    client.post(
        reverse("ambassadors:log-engagement", args=[match.pk]),
        {
            "held_on": (today - timedelta(days=1)).strftime("%d/%m/%Y"),
            "topics": ["pensions", "tupe"],
            "actions_agreed": "Send the checklist",
            "follow_up_on": (today + timedelta(days=7)).strftime("%d/%m/%Y"),
        },
    )
    engagement = Engagement.objects.get()
    client.post(reverse("ambassadors:follow-up-done", args=[engagement.pk]))
    assert Engagement.objects.get().follow_up_done_at is not None

    client.force_login(member)
    group_page = client.get(reverse("ambassadors:group", args=[journey.organisation_id]))
    assert ambassador.name in group_page.content.decode()
    response = client.post(
        reverse("ambassadors:rate", args=[engagement.pk]), {"rating": "5", "comment": "Great"}
    )
    assert response.status_code == 302
    assert EngagementRating.objects.get().rating == 5


def test_decline_needs_a_reason_page(client, officer, ambassador, journey):
    [match] = services.confirm_run(services.run_matching(actor=officer), actor=officer)
    client.force_login(ambassador.user)
    response = client.post(reverse("ambassadors:decline", args=[match.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "Enter why you are declining this group" in response.content.decode()
    client.post(reverse("ambassadors:decline", args=[match.pk]), {"reason": "Too far"})
    assert ProposedMatch.objects.get(pk=match.pk).status == MatchStatus.DECLINED


def test_others_cannot_see_or_act(client, officer, ambassador, journey, member):
    [match] = services.confirm_run(services.run_matching(actor=officer), actor=officer)
    stranger = AmbassadorProfileFactory()
    client.force_login(stranger.user)
    assert client.get(reverse("ambassadors:match", args=[match.pk])).status_code == 404
    assert client.post(reverse("ambassadors:accept", args=[match.pk])).status_code == 404
    assert (
        client.get(reverse("ambassadors:group", args=[journey.organisation_id])).status_code == 404
    )
    client.force_login(member)
    assert client.post(reverse("ambassadors:run-matching")).status_code == 403
    assert client.get(reverse("ambassadors:match", args=[match.pk])).status_code == 404
    # ambassador's journey access only after accepting
    client.force_login(ambassador.user)
    assert client.get(reverse("journeys:detail", args=[journey.pk])).status_code == 403


def test_ambassador_profile_and_time_away(client):
    user = grant(UserFactory(), "ambassador")
    client.force_login(user)
    assert client.get(reverse("ambassadors:index")).url == reverse("ambassadors:profile")
    response = client.post(reverse("ambassadors:profile"), {"capacity": "3"})
    assert response.status_code == 400
    assert "Select at least one sector you know" in response.content.decode()
    client.post(
        reverse("ambassadors:profile"),
        {
            "capacity": "3",
            "sectors": ["health"],
            "stages": ["EXPLORE"],
            "regions": ["london"],
            "topics_offered": ["pensions"],
            "excluded_topics": ["property"],
        },
    )
    profile = AmbassadorProfile.objects.get(user=user)
    assert profile.capacity == 3 and profile.excluded_topics == ["property"]
    today = timezone.localdate()
    client.post(
        reverse("ambassadors:away-add"),
        {
            "starts_on": today.strftime("%d/%m/%Y"),
            "ends_on": (today + timedelta(days=3)).strftime("%d/%m/%Y"),
        },
    )
    assert profile.is_away_on(today)
    assert "You are away now" in client.get(reverse("ambassadors:index")).content.decode()
    window = {
        "capacity": "3",
        "sectors": ["health"],
        "stages": ["EXPLORE"],
        "regions": ["london"],
        "available_from": (today + timedelta(days=10)).strftime("%d/%m/%Y"),
        "available_until": (today + timedelta(days=5)).strftime("%d/%m/%Y"),
    }
    refused = client.post(reverse("ambassadors:profile"), window)
    assert refused.status_code == 400
    assert "Available until must be the same as or after available from" in refused.content.decode()
    window["available_until"] = ""
    assert client.post(reverse("ambassadors:profile"), window).status_code == 302
    later = today + timedelta(days=10)
    home = client.get(reverse("ambassadors:index")).content.decode()
    assert f"You are available only from {later.day} {later:%B %Y}" in home


def test_group_requests_an_ambassador(member_client, staff_group):
    page = member_client.get(reverse("ambassadors:index"), follow=True)
    assert "Ask for an ambassador" in page.content.decode()
    bad = member_client.post(reverse("ambassadors:request", args=[staff_group.pk]), {"note": ""})
    assert bad.status_code == 400
    member_client.post(
        reverse("ambassadors:request", args=[staff_group.pk]), {"note": "Pensions advice"}
    )
    assert (
        "Asked on"
        in member_client.get(reverse("ambassadors:group", args=[staff_group.pk])).content.decode()
    )


def test_conflicts_page(officer_client, ambassador, journey):
    response = officer_client.post(
        reverse("ambassadors:conflicts"),
        {
            "profile": ambassador.pk,
            "organisation": journey.organisation_id,
            "kind": "competing_bid",
            "note": "Same tender",
        },
    )
    assert response.status_code == 302
    assert "Same tender" in officer_client.get(reverse("ambassadors:conflicts")).content.decode()
