"""Contract watch in a real browser: a mutual leader's timeline, the officer's radar, a check."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mutualise.organisations.models import OrganisationKind
from mutualise.watch.models import ContractOutcome, Notice, WatchedContract
from tests.e2e.helpers import follow
from tests.factories import OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.e2e


@pytest.fixture
def watched(transactional_db):
    mutual = OrganisationFactory(
        name="Riverside Health Mutual",
        kind=OrganisationKind.MUTUAL,
        annual_income_pence=500_000_000,
    )
    today = timezone.localdate()
    now = timezone.now()
    running = WatchedContract.objects.create(
        ocid="ocds-b5fd17-run",
        award_id="1",
        title="Community nursing for Riverside",
        cpv="85323000",
        buyer_name="Riverside Borough Council",
        buyer_key="riverside borough council",
        supplier_organisation=mutual,
        supplier_class="PUBLIC_SERVICE_MUTUAL",
        value_pence=900_000_000,
        start_date=today - timedelta(days=900),
        end_date=today + timedelta(days=200),
        award_date=today - timedelta(days=930),
        has_renewal=False,
        content_hash="a",
        loaded_at=now,
    )
    Notice.objects.create(
        contract=running,
        notice_ocid="ocds-b5fd17-plan",
        stage="planning",
        title="Community nursing: early market engagement",
        cpv="85323000",
        published_on=today - timedelta(days=20),
        score=0.9,
    )
    ended = WatchedContract.objects.create(
        ocid="ocds-b5fd17-old",
        award_id="1",
        title="Community nursing (previous)",
        cpv="85323000",
        buyer_name="Riverside Borough Council",
        buyer_key="riverside borough council",
        supplier_organisation=mutual,
        supplier_class="PUBLIC_SERVICE_MUTUAL",
        value_pence=800_000_000,
        end_date=today - timedelta(days=1000),
        content_hash="b",
        loaded_at=now,
    )
    ContractOutcome.objects.create(
        contract=ended,
        outcome="RETAINED",
        confidence=0.97,
        reason="the successor contract went to the same supplier",
        source_rows="contract ocds-b5fd17-old / 1",
        as_of=today,
    )
    grant(UserFactory(username="leader"), "mutual_leader", mutual)
    grant(UserFactory(username="officer"), "programme_officer")
    return mutual


def test_mutual_leader_sees_timeline(browser_page, live_url, sign_in, check_accessibility, watched):
    sign_in(browser_page, "leader")
    browser_page.goto(live_url + "/watch/")
    assert "/watch/organisations/" in browser_page.url
    assert browser_page.locator("h1").count() == 1
    card = browser_page.locator(".govuk-summary-card").first
    assert "Community nursing for Riverside" in card.inner_text()
    assert "early market engagement" in card.inner_text()
    assert "risk" in card.locator(".govuk-tag").first.inner_text().lower()
    check_accessibility(browser_page)


def test_officer_sees_radar_and_checks_a_reservation(
    browser_page, live_url, sign_in, check_accessibility, watched
):
    sign_in(browser_page, "officer")
    browser_page.goto(live_url + "/watch/")
    assert "Re-tender radar" in browser_page.locator("h1").inner_text()
    assert "Riverside Health Mutual" in browser_page.locator("#radar").inner_text()
    assert "Retained" in browser_page.locator("#history").inner_text()
    check_accessibility(browser_page)
    follow(browser_page.get_by_role("link", name="Riverside Health Mutual contracts"))
    assert browser_page.locator(".govuk-summary-card").count() == 1
    check_accessibility(browser_page)
    browser_page.goto(live_url + "/watch/reservation-check/")
    check_accessibility(browser_page)
    follow(browser_page.get_by_role("button", name="Check"))
    assert browser_page.title().startswith("Error:")
    check_accessibility(browser_page)
    browser_page.fill("#id_cpv_codes", "85323000")
    browser_page.fill("#id_maximum_term_months", "36")
    browser_page.fill("#id_award_date", "2024-06-01")
    follow(browser_page.get_by_role("button", name="Check"))
    assert "Eligible" in browser_page.locator("h1").inner_text()
    check_accessibility(browser_page)
    browser_page.goto(live_url + "/watch/missed-reservations/")
    check_accessibility(browser_page)
