"""The other ambassador pages in a browser: profile, time away, declining, conflicts, asking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mutualise.ambassadors import services
from mutualise.ambassadors.models import AmbassadorProfile, MatchStatus, ProposedMatch
from tests.ambassadors.factories import AmbassadorProfileFactory
from tests.e2e.helpers import follow
from tests.factories import JourneyFactory, OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.e2e


def test_new_ambassador_sets_up_profile_and_time_away(
    browser_page, live_url, sign_in, check_accessibility, transactional_db
):
    page = browser_page
    grant(UserFactory(username="new-amb"), "ambassador")
    sign_in(page, "new-amb")
    page.goto(f"{live_url}/ambassadors/")
    assert page.locator("h1").inner_text() == "Your ambassador profile"
    check_accessibility(page)
    follow(page.get_by_role("button", name="Save profile"))
    assert page.title().startswith("Error:")
    check_accessibility(page)
    page.fill("#id_capacity", "2")
    page.get_by_label("Community health").check()
    page.get_by_label("Business case").check()
    page.get_by_label("London").check()
    page.get_by_role("group", name="What can you help with?").get_by_label("Pensions").check()
    follow(page.get_by_role("button", name="Save profile"))
    assert page.locator("h1").inner_text() == "Your groups"
    check_accessibility(page)
    assert AmbassadorProfile.objects.get().topics_offered == ["pensions"]
    follow(page.get_by_role("link", name="Add time away"))
    check_accessibility(page)
    today = timezone.localdate()
    page.fill("#id_starts_on", today.strftime("%d/%m/%Y"))
    page.fill("#id_ends_on", (today + timedelta(days=5)).strftime("%d/%m/%Y"))
    follow(page.get_by_role("button", name="Save time away"))
    assert "You are away now" in page.content()
    check_accessibility(page)


def test_ambassador_declines_with_a_reason_and_officer_records_conflict(
    browser_page, live_url, sign_in, check_accessibility, transactional_db
):
    page = browser_page
    officer = grant(UserFactory(username="officer-e2e2"), "programme_officer")
    group = OrganisationFactory(name="Northside Libraries Team")
    JourneyFactory(organisation=group, stage_entered_at=timezone.now())
    member = grant(
        UserFactory(username="member-e2e2"),
        "staff_group_member",
        OrganisationFactory(name="Eastside Youth Service"),
    )
    profile = AmbassadorProfileFactory(user=UserFactory(username="amb-e2e2"))
    [match] = services.confirm_run(services.run_matching(actor=officer), actor=officer)

    sign_in(page, "amb-e2e2")
    page.goto(f"{live_url}/ambassadors/matches/{match.pk}/")
    follow(page.get_by_role("link", name="Decline"))
    check_accessibility(page)
    follow(page.get_by_role("button", name="Decline this group"))
    assert page.title().startswith("Error:")
    check_accessibility(page)
    page.fill("#id_reason", "I already support a group in this service area.")
    follow(page.get_by_role("button", name="Decline this group"))
    assert ProposedMatch.objects.get(pk=match.pk).status == MatchStatus.DECLINED

    sign_in(page, "officer-e2e2")
    page.goto(f"{live_url}/ambassadors/")
    assert "I already support a group" in page.content()
    check_accessibility(page)
    page.goto(f"{live_url}/ambassadors/conflicts/")
    check_accessibility(page)
    page.select_option("#id_profile", str(profile.pk))
    page.select_option("#id_organisation", str(group.pk))
    page.get_by_label("Competing bid").check()
    follow(page.get_by_role("button", name="Record conflict"))
    assert "Conflict of interest recorded" in page.content()
    check_accessibility(page)

    sign_in(page, "member-e2e2")
    page.goto(f"{live_url}/ambassadors/")
    check_accessibility(page)
    follow(page.get_by_role("link", name="Ask for an ambassador"))
    check_accessibility(page)
    page.fill("#id_note", "Help with bid writing and the re-tender.")
    follow(page.get_by_role("button", name="Ask for an ambassador"))
    assert "You have asked for an ambassador" in page.content()
    check_accessibility(page)
    assert member.pk
