"""An officer matches, the ambassador accepts and logs an engagement, the group rates it.

Every page on the way is checked with axe-core (WCAG 2.2 A/AA)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mutualise.ambassadors.models import EngagementRating, MatchStatus, ProposedMatch
from tests.ambassadors.factories import AmbassadorProfileFactory
from tests.e2e.helpers import follow
from tests.factories import JourneyFactory, OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.e2e


@pytest.fixture
def programme(transactional_db):
    group = OrganisationFactory(name="Riverside Community Nursing")
    journey = JourneyFactory(
        organisation=group,
        stage_entered_at=timezone.now(),
        stated_needs="Pensions advice and TUPE for the business case.",
    )
    grant(UserFactory(username="officer-e2e"), "programme_officer")
    grant(UserFactory(username="member-e2e"), "staff_group_member", group)
    ambassador = AmbassadorProfileFactory(
        user=UserFactory(username="amb-e2e", full_name="Ada Ambassador"),
        topics_offered=["pensions", "tupe"],
    )
    return {"group": group, "journey": journey, "ambassador": ambassador}


def test_officer_matches_ambassador_accepts_group_rates(
    browser_page, live_url, sign_in, check_accessibility, programme
):
    page = browser_page
    group = programme["group"]

    # The officer runs matching, reviews why the pair was chosen, and confirms.
    sign_in(page, "officer-e2e")
    page.goto(f"{live_url}/ambassadors/")
    assert page.locator("h1").inner_text() == "Ambassadors"
    assert page.get_by_text(group.name).first.is_visible()
    check_accessibility(page)
    follow(page.get_by_role("button", name="Run matching"))
    page.wait_for_url("**/ambassadors/runs/*/")
    assert page.locator("h1").inner_text() == "Review the proposed matches"
    proposal = page.locator("#proposal")
    assert "Ada Ambassador" in proposal.inner_text()
    assert "Offers help with 2 of the group's" in proposal.inner_text()
    check_accessibility(page)
    follow(page.get_by_role("button", name="Confirm and send proposals"))
    page.wait_for_url(f"{live_url}/ambassadors/")
    assert "1 proposals sent to ambassadors" in page.content()
    check_accessibility(page)
    match = ProposedMatch.objects.get()

    # The ambassador accepts and logs an engagement.
    sign_in(page, "amb-e2e")
    page.goto(f"{live_url}/ambassadors/")
    check_accessibility(page)
    follow(page.get_by_role("link", name=group.name))
    check_accessibility(page)
    follow(page.get_by_role("button", name="Accept"))
    assert ProposedMatch.objects.get(pk=match.pk).status == MatchStatus.ACCEPTED
    check_accessibility(page)
    follow(page.get_by_role("link", name="Log an engagement"))
    check_accessibility(page)
    follow(page.get_by_role("button", name="Save engagement"))  # empty form: errors first
    assert page.title().startswith("Error:")
    assert page.locator(".govuk-error-summary").is_visible()
    check_accessibility(page)
    today = timezone.localdate()
    page.fill("#id_held_on", (today - timedelta(days=1)).strftime("%d/%m/%Y"))
    page.get_by_label("Pensions", exact=True).check()
    page.get_by_label("TUPE and staff transfer").check()
    page.fill("#id_actions_agreed", "Send the pension admission checklist.")
    page.fill("#id_follow_up_on", (today + timedelta(days=14)).strftime("%d/%m/%Y"))
    follow(page.get_by_role("button", name="Save engagement"))
    assert "Engagement logged" in page.content()
    assert "Send the pension admission checklist." in page.content()
    check_accessibility(page)
    follow(page.get_by_role("link", name=f"See {group.name}'s journey"))
    assert "/journeys/" in page.url
    check_accessibility(page)

    # The group sees its ambassador and rates the meeting.
    sign_in(page, "member-e2e")
    page.goto(f"{live_url}/ambassadors/groups/{group.pk}/")
    assert "Ada Ambassador" in page.content()
    check_accessibility(page)
    follow(page.get_by_role("link", name="Rate this meeting"))
    check_accessibility(page)
    page.get_by_label("5 – very useful").check()
    page.fill("#id_comment", "Clear and practical.")
    follow(page.get_by_role("button", name="Save rating"))
    assert "your rating is saved" in page.content()
    check_accessibility(page)
    rating = EngagementRating.objects.get()
    assert rating.rating == 5 and rating.comment == "Clear and practical."
