"""The support fund end to end in a real browser: apply (fixing a failed eligibility rule on the
way), assess, approve and pay a milestone, with an axe check on every page."""

from __future__ import annotations

import re

import pytest

from mutualise.fund import services
from tests.e2e.helpers import follow
from tests.factories import OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(transactional_db):
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    officer = grant(UserFactory(username="off-1", full_name="Olive Officer"), "programme_officer")
    assessor = grant(UserFactory(username="ass-1", full_name="Ann Assessor"), "assessor")
    organisation = OrganisationFactory(name="Riverside Community Nursing")
    applicant = grant(
        UserFactory(username="org-001-member", full_name="Sam Applicant"),
        "staff_group_member",
        organisation,
    )
    fund = services.create_fund(actor=officer, name="Mutuals Support Fund")
    now = timezone.now()
    fund_round = services.create_round(
        actor=officer,
        fund=fund,
        name="Round 3",
        budget_pence=50_000_000,
        maximum_award_pence=2_500_000,
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=30),
        eligibility_rules=["E1", "E2", "E3", "E4", "E5", "E6"],
        min_match_share_percent=Decimal(10),
        subsidy_cap_pence=31_500_000,
    )
    return {"officer": officer, "assessor": assessor, "applicant": applicant, "round": fund_round}


def choose(page, label, check_accessibility):
    check_accessibility(page)  # every question page is checked before it is answered
    page.get_by_label(label, exact=True).check()
    follow(page.get_by_role("button", name="Save and continue"))


def fill(page, value, check_accessibility):
    check_accessibility(page)
    field = page.locator("#id_answer")
    field.fill(value)
    follow(page.get_by_role("button", name="Save and continue"))


def test_apply_assess_approve_pay(browser_page, live_url, sign_in, check_accessibility, world):
    page = browser_page
    # A long journey on a shared 2-core machine: allow slow pages rather than flaky failures.
    page.set_default_timeout(60_000)
    page.set_default_navigation_timeout(60_000)
    fund_round = world["round"]

    # The applicant applies, answering one question so that rule E1 fails.
    sign_in(page, "org-001-member")
    page.goto(f"{live_url}/fund/")
    check_accessibility(page)
    follow(page.get_by_role("link", name=re.compile(r"Apply to Mutuals Support Fund: Round 3")))
    check_accessibility(page)
    follow(page.get_by_role("button", name="Start now"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Apply to")
    check_accessibility(page)
    follow(page.get_by_role("link", name="About your organisation"))
    check_accessibility(page)
    choose(page, "No", check_accessibility)  # not delivering in England: E1 will fail
    choose(page, "Not yet, but we intend to become one", check_accessibility)
    choose(page, "No", check_accessibility)  # not live yet
    assert "/tasks/" in page.url
    follow(page.get_by_role("link", name="Your project"))
    fill(page, "Business plan for the mutual", check_accessibility)
    fill(page, "Community nursing in three localities", check_accessibility)
    fill(
        page,
        "We will buy legal and financial advice so that we can bid for new contracts "
        "with neighbouring councils and diversify into private-pay services.",
        check_accessibility,
    )
    fill(page, "Jane Smith, Director of Community Services", check_accessibility)
    follow(page.get_by_role("link", name="Funding"))
    # A negative amount is refused with an error summary.
    page.locator("#id_answer").fill("-100")
    follow(page.get_by_role("button", name="Save and continue"))
    assert page.title().startswith("Error:")
    assert page.locator(".govuk-error-summary").is_visible()
    check_accessibility(page)
    fill(page, "20,000.00", check_accessibility)
    fill(page, "25,000", check_accessibility)
    fill(page, "5,000", check_accessibility)
    fill(page, "0", check_accessibility)
    check_accessibility(page)
    follow(page.get_by_role("link", name="Check your answers and eligibility"))
    assert page.get_by_text("Not met").count() == 1
    assert page.get_by_text(
        "only supports organisations that deliver services in England"
    ).is_visible()
    check_accessibility(page)
    # Fix the failed rule from the eligibility summary.
    follow(page.get_by_role("link", name="Change your answer for Delivering in England"))
    choose(page, "Yes", check_accessibility)
    assert "/check/" in page.url
    assert page.get_by_text("Not met").count() == 0
    follow(page.get_by_role("link", name="Continue to the declaration"))
    check_accessibility(page)
    page.get_by_label("Your full name").fill("Sam Applicant")
    page.get_by_label("I agree to the declaration").check()
    follow(page.get_by_role("button", name="Accept and submit"))
    assert page.get_by_role("heading", name="Application submitted").is_visible()
    check_accessibility(page)

    from mutualise.fund.models import Application

    application = Application.objects.get(round=fund_round)
    assert application.status == "submitted"

    # The officer assigns an assessor.
    sign_in(page, "off-1")
    page.goto(f"{live_url}/fund/rounds/{fund_round.pk}/applications/")
    check_accessibility(page)
    follow(page.get_by_role("link", name=application.reference))
    check_accessibility(page)
    follow(page.get_by_role("link", name="Assign an assessor"))
    check_accessibility(page)
    page.get_by_label("Ann Assessor").check()
    follow(page.get_by_role("button", name="Assign assessor"))
    assert page.get_by_text("Ann Assessor assigned").is_visible()
    check_accessibility(page)

    # The assessor scores every criterion.
    sign_in(page, "ass-1")
    page.goto(f"{live_url}/fund/assessments/")
    check_accessibility(page)
    follow(page.get_by_role("link", name=re.compile(application.reference)))
    check_accessibility(page)
    for criterion in fund_round.criteria.all():
        page.locator(f"#score_{criterion.pk}_4").check()
        page.locator(f"#comment_{criterion.pk}").fill("Clear evidence in the application.")
    follow(page.get_by_role("button", name="Finish assessment"))
    assert page.get_by_text("Assessment finished").is_visible()
    check_accessibility(page)

    # The officer approves and pays the first milestone.
    sign_in(page, "off-1")
    page.goto(f"{live_url}/fund/applications/{application.pk}/")
    assert page.get_by_text("80%").is_visible()
    check_accessibility(page)
    follow(page.get_by_role("link", name="Record a decision"))
    check_accessibility(page)
    page.get_by_label("Amount to award").fill("18,000")
    follow(page.get_by_role("button", name="Approve and commit the money"))
    assert page.get_by_text("approved").first.is_visible()
    follow(page.get_by_role("link", name="payments and milestones"))
    check_accessibility(page)
    follow(page.get_by_role("link", name="Add a milestone"))
    check_accessibility(page)
    page.get_by_label("Milestone", exact=True).fill("Adviser appointed")
    page.get_by_label("Amount payable at this milestone").fill("9,000")
    follow(page.get_by_role("button", name="Add milestone"))
    follow(page.get_by_role("link", name="Record a payment"))
    check_accessibility(page)
    page.get_by_label("Adviser appointed").check()
    page.get_by_label("Amount to pay").fill("9,000")
    page.get_by_label("Evidence that the milestone was met").fill("Signed engagement letter")
    follow(page.get_by_role("button", name="Record payment"))
    assert page.get_by_text("Payment recorded").is_visible()
    check_accessibility(page)
    page.goto(f"{live_url}/fund/rounds/{fund_round.pk}/")
    check_accessibility(page)
    award = application.award
    balance = award.balance()
    assert (balance.committed, balance.paid) == (1_800_000, 900_000)
