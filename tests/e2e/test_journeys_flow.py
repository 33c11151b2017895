"""A staff group member takes the readiness self-assessment; a programme officer moves a group.

Every page visited is checked with axe-core (WCAG 2.2 A/AA)."""

from __future__ import annotations

import re

import pytest

from mutualise.journeys import readiness
from mutualise.journeys.models import Journey
from tests.e2e.helpers import follow
from tests.factories import (
    JourneyFactory,
    OrganisationFactory,
    PublicBodyFactory,
    UserFactory,
    grant,
)

pytestmark = pytest.mark.e2e


def test_member_takes_readiness_then_officer_moves_the_group(
    browser_page, live_url, sign_in, check_accessibility
):
    page = browser_page
    council = PublicBodyFactory(name="Riverside Borough Council")
    group = OrganisationFactory(name="Riverside Community Health Team", parent_body=council)
    journey = JourneyFactory(organisation=group, senior_sponsor_name="Director of Adult Services")
    grant(UserFactory(username="e2e-member"), "staff_group_member", group)
    grant(UserFactory(username="e2e-officer"), "programme_officer")
    questionnaire = readiness.load_questionnaire()

    # --- the member: task list, readiness one question per page, check answers, result ---
    sign_in(page, "e2e-member")
    assert page.url.endswith(f"/journeys/{journey.pk}/")
    assert page.locator("h1").inner_text() == group.name
    assert page.locator(".govuk-task-list").first.is_visible()
    check_accessibility(page)

    follow(page.get_by_role("link", name="Readiness self-assessment"))
    assert page.locator("h1").inner_text() == "Readiness self-assessment"
    check_accessibility(page)

    follow(page.get_by_role("button", name="Start now"))
    first = questionnaire.questions[0]
    assert page.locator("h1").inner_text() == first.text
    check_accessibility(page)

    follow(page.get_by_role("button", name="Continue"))  # nothing chosen
    assert page.title().startswith("Error:")
    assert page.locator(".govuk-error-summary").is_visible()
    check_accessibility(page)

    for number, question in enumerate(questionnaire.questions):
        assert page.locator("h1").inner_text() == question.text
        if number:
            check_accessibility(page)
        option = question.options[2 if number % 2 else 3]
        page.get_by_label(option.label, exact=True).check()
        follow(page.get_by_role("button", name="Continue"))

    assert page.locator("h1").inner_text() == "Check your answers"
    check_accessibility(page)
    follow(page.get_by_role("button", name="Submit assessment"))

    assert page.locator("h1").inner_text() == "Readiness result"
    scores = page.locator("#readiness-scores")
    for theme in questionnaire.themes:
        assert scores.get_by_role("rowheader", name=theme.name).is_visible()
    assert scores.locator(".govuk-tag").count() == len(questionnaire.themes)
    check_accessibility(page)

    # --- the officer: pipeline, the group, a refused move, a move ---
    sign_in(page, "e2e-officer")
    assert page.url.endswith("/journeys/")
    assert page.locator("h1").inner_text() == "Pipeline"
    check_accessibility(page)

    follow(page.get_by_role("link", name=group.name))
    assert page.locator("h1").inner_text() == group.name
    check_accessibility(page)

    page.get_by_label("Options appraisal", exact=True).check()
    page.get_by_label("Note for the record (optional)").fill("Agreed at the steering group")
    follow(page.get_by_role("button", name="Move group"))
    assert page.locator(".govuk-notification-banner--success").is_visible()
    assert page.locator("#current-stage").inner_text() == "Options appraisal"
    check_accessibility(page)
    assert Journey.objects.get(pk=journey.pk).stage == "OPTIONS_APPRAISAL"

    # the next move lacks its evidence: refused, reasons shown, nothing changed
    page.get_by_label("Business case", exact=True).check()
    follow(page.get_by_role("button", name="Move group"))
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert re.search("options appraisal that chose the mutual route", summary.inner_text())
    assert page.title().startswith("Error:")
    check_accessibility(page)
    assert Journey.objects.get(pk=journey.pk).stage == "OPTIONS_APPRAISAL"
