"""Journey pages through the Django test client: permissions, pipeline, moves, readiness."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mutualise.core.models import AuditEvent
from mutualise.journeys import readiness
from mutualise.journeys.models import Journey, ReadinessAssessment
from tests.factories import (
    JourneyFactory,
    OrganisationFactory,
    PublicBodyFactory,
    UserFactory,
    grant,
)
from tests.journeys.factories import answers_at, group_with_member, submitted_assessment

pytestmark = pytest.mark.django_db


# --- permissions across roles and objects ----------------------------------------------------


def private_urls(journey: Journey, assessment: ReadinessAssessment) -> list[str]:
    return [
        reverse("journeys:detail", args=[journey.pk]),
        reverse("journeys:evidence", args=[journey.pk]),
        reverse("journeys:readiness", args=[journey.pk]),
        reverse("journeys:readiness-result", args=[journey.pk, assessment.pk]),
    ]


def test_anonymous_is_sent_to_sign_in(client, journey):
    assessment = submitted_assessment(journey, 2)
    for url in [
        reverse("journeys:pipeline"),
        reverse("journeys:mine"),
        *private_urls(journey, assessment),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("core:sign-in")), url


def test_member_of_another_group_cannot_see_this_group(client, journey):
    assessment = submitted_assessment(journey, 2)
    _, stranger = group_with_member("stranger")
    client.force_login(stranger)
    for url in private_urls(journey, assessment):
        assert client.get(url).status_code in (403, 404), url
    assert client.post(reverse("journeys:readiness-start", args=[journey.pk])).status_code == 403
    assert client.get(reverse("journeys:pipeline")).status_code == 403


@pytest.mark.parametrize("role", ["ambassador", "assessor"])
def test_ambassador_or_assessor_without_a_link_cannot_see(client, journey, role):
    assessment = submitted_assessment(journey, 2)
    client.force_login(grant(UserFactory(username=role), role))
    for url in private_urls(journey, assessment):
        assert client.get(url).status_code in (403, 404), url
    assert client.get(reverse("journeys:pipeline")).status_code == 403


def test_officer_sees_everything(officer_client, journey):
    assessment = submitted_assessment(journey, 2)
    for url in [reverse("journeys:pipeline"), *private_urls(journey, assessment)]:
        assert officer_client.get(url).status_code == 200, url


def test_member_sees_own_group(member_client, journey):
    assessment = submitted_assessment(journey, 2)
    for url in private_urls(journey, assessment):
        assert member_client.get(url).status_code == 200, url


def test_mine_takes_a_member_to_their_journey(member_client, journey):
    response = member_client.get(reverse("journeys:mine"))
    assert response.status_code == 302
    assert response["Location"] == reverse("journeys:detail", args=[journey.pk])


def test_mine_without_a_group_says_so(client):
    client.force_login(UserFactory(username="lonely"))
    response = client.get(reverse("journeys:mine"))
    assert response.status_code == 200
    assert b"not a member of a staff group" in response.content


def test_unknown_journey_is_404(officer_client):
    assert officer_client.get("/journeys/999999/").status_code == 404


# --- the member's task list ------------------------------------------------------------------


def test_member_sees_a_task_list_with_statuses(member_client, journey):
    Journey.objects.filter(pk=journey.pk).update(stage="BUSINESS_CASE")
    html = member_client.get(reverse("journeys:detail", args=[journey.pk])).content.decode()
    assert "govuk-task-list" in html
    assert "Write your business case" in html  # applicant-facing name
    assert "Explore whether a mutual is right for you" in html
    statuses = re.findall(r'id="stage-\d+-status">\s*(.*?)\s*</div>', html, re.S)
    assert statuses[0] == "Completed" and statuses[1] == "Completed"
    assert "In progress" in statuses[2]
    assert all(s == "Cannot start yet" for s in statuses[3:])
    assert "Record the date the full business case was completed." in html
    assert "Move group" not in html  # members never move stages


def test_member_evidence_form_only_offers_their_fields(member_client, journey):
    url = reverse("journeys:evidence", args=[journey.pk])
    html = member_client.get(url).content.decode()
    assert 'name="senior_sponsor_name"' in html
    assert 'name="procurement_route"' not in html
    response = member_client.post(
        url,
        {
            "senior_sponsor_name": "Director of Public Health",
            "senior_sponsor_role": "Director",
            "stated_needs": "Pensions advice",
            "needs_ambassador": "False",
            "procurement_route": "direct_award",  # not theirs to set: ignored
        },
    )
    assert response.status_code == 302
    saved = Journey.objects.get(pk=journey.pk)
    assert saved.senior_sponsor_name == "Director of Public Health"
    assert saved.needs_ambassador is False
    assert saved.procurement_route == ""


def test_member_cannot_post_a_move(member_client, journey):
    response = member_client.post(
        reverse("journeys:move", args=[journey.pk]), {"target": "WITHDRAWN"}
    )
    assert response.status_code == 403
    assert Journey.objects.get(pk=journey.pk).stage == "EXPLORE"


# --- the pipeline ----------------------------------------------------------------------------


@pytest.fixture
def programme(db):
    north = PublicBodyFactory(name="Northtown Council", region="north-east")
    south = PublicBodyFactory(name="Southtown Council", region="south-west")
    made = {
        "north_health": JourneyFactory(
            organisation=OrganisationFactory(
                name="North Health", parent_body=north, sector="health", region="north-east"
            )
        ),
        "north_library": JourneyFactory(
            stage="BUSINESS_CASE",
            organisation=OrganisationFactory(
                name="North Libraries",
                parent_body=north,
                sector="libraries-culture",
                region="north-east",
            ),
        ),
        "south_health": JourneyFactory(
            stage="BUSINESS_CASE",
            organisation=OrganisationFactory(
                name="South Health", parent_body=south, sector="health", region="south-west"
            ),
        ),
        "south_live": JourneyFactory(
            stage="LIVE",
            organisation=OrganisationFactory(
                name="South Leisure", parent_body=south, sector="leisure", region="south-west"
            ),
        ),
    }
    return {"north": north, "south": south, **made}


def count_for(html: str, stage: str) -> int:
    match = re.search(rf'id="count-{stage}">.*?app-stage-count">(\d+)<', html, re.S)
    assert match, stage
    return int(match.group(1))


def test_pipeline_shows_every_group_by_stage_with_counts(officer_client, programme):
    html = officer_client.get(reverse("journeys:pipeline")).content.decode()
    for name in ("North Health", "North Libraries", "South Health", "South Leisure"):
        assert name in html
    assert count_for(html, "EXPLORE") == 1
    assert count_for(html, "BUSINESS_CASE") == 2
    assert count_for(html, "LIVE") == 1
    assert count_for(html, "OUTCOME") == 0
    assert (
        html.index('id="stage-EXPLORE"')
        < html.index('id="stage-BUSINESS_CASE"')
        < html.index('id="stage-LIVE"')
    )


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("sector=health", {"North Health", "South Health"}, {"North Libraries", "South Leisure"}),
        ("region=south-west", {"South Health", "South Leisure"}, {"North Health"}),
        (
            "stage=BUSINESS_CASE",
            {"North Libraries", "South Health"},
            {"North Health", "South Leisure"},
        ),
        (
            "sector=health&stage=BUSINESS_CASE",
            {"South Health"},
            {"North Health", "North Libraries"},
        ),
    ],
)
def test_pipeline_filters(officer_client, programme, query, shown, hidden):
    html = officer_client.get(reverse("journeys:pipeline") + "?" + query).content.decode()
    for name in shown:
        assert name in html, name
    for name in hidden:
        assert f">{name}</a>" not in html, name


def test_pipeline_filters_by_parent_body_and_counts_follow(officer_client, programme):
    url = reverse("journeys:pipeline") + f"?parent_body={programme['south'].pk}"
    html = officer_client.get(url).content.decode()
    assert ">South Health</a>" in html and ">North Health</a>" not in html
    assert count_for(html, "EXPLORE") == 0
    assert count_for(html, "BUSINESS_CASE") == 1
    assert count_for(html, "LIVE") == 1
    # the stage links keep the other filters
    assert f"parent_body={programme['south'].pk}&amp;stage=LIVE" in html


def test_pipeline_reports_a_bad_filter(officer_client, programme):
    response = officer_client.get(reverse("journeys:pipeline") + "?stage=NOWHERE")
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "<title>Error: " in html
    assert ">North Health</a>" in html  # the bad filter is ignored


# --- moving a group --------------------------------------------------------------------------


def test_officer_moves_a_group(officer_client, journey, officer):
    Journey.objects.filter(pk=journey.pk).update(senior_sponsor_name="Chief Executive")
    url = reverse("journeys:move", args=[journey.pk])
    response = officer_client.post(url, {"target": "OPTIONS_APPRAISAL", "note": "Cabinet 3 May"})
    assert response.status_code == 302
    assert Journey.objects.get(pk=journey.pk).stage == "OPTIONS_APPRAISAL"
    event = AuditEvent.objects.get(action="journey.moved")
    assert event.actor_id == officer.pk
    assert event.after["note"] == "Cabinet 3 May"
    page = officer_client.get(response["Location"]).content.decode()
    assert "moved to Options appraisal" in page


def test_refused_move_lists_missing_evidence_and_changes_nothing(officer_client, journey):
    response = officer_client.post(
        reverse("journeys:move", args=[journey.pk]), {"target": "OPTIONS_APPRAISAL"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "<title>Error: " in html
    assert "Record the senior sponsor in the parent body before leaving Explore." in html
    assert 'href="#check-OPTIONS_APPRAISAL-senior_sponsor"' in html
    assert 'id="check-OPTIONS_APPRAISAL-senior_sponsor"' in html
    assert Journey.objects.get(pk=journey.pk).stage == "EXPLORE"
    assert not AuditEvent.objects.filter(action="journey.moved").exists()


def test_move_to_a_stage_not_offered_is_an_error(officer_client, journey):
    response = officer_client.post(reverse("journeys:move", args=[journey.pk]), {"target": "LIVE"})
    assert response.status_code == 200
    assert b"Select one of the stages listed" in response.content
    assert Journey.objects.get(pk=journey.pk).stage == "EXPLORE"


def test_move_needs_a_choice(officer_client, journey):
    response = officer_client.post(reverse("journeys:move", args=[journey.pk]), {})
    assert b"Select the stage to move the group to" in response.content


def test_move_is_post_only_and_csrf_protected(journey, officer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    url = reverse("journeys:move", args=[journey.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"target": "WITHDRAWN"}).status_code == 403
    assert Journey.objects.get(pk=journey.pk).stage == "EXPLORE"


def test_officer_records_evidence_with_a_date(officer_client, journey):
    url = reverse("journeys:evidence", args=[journey.pk])
    assert 'name="business_case_completed_on_0"' in officer_client.get(url).content.decode()
    data = {
        "needs_ambassador": "True",
        "business_case_completed_on_0": "3",
        "business_case_completed_on_1": "2",
        "business_case_completed_on_2": "2026",
        "options_appraisal_choice": "mutual",
    }
    assert officer_client.post(url, data).status_code == 302
    saved = Journey.objects.get(pk=journey.pk)
    assert saved.business_case_completed_on.isoformat() == "2026-02-03"
    assert saved.options_appraisal_choice == "mutual"


def test_bad_evidence_shows_an_error_summary_and_saves_nothing(officer_client, journey):
    url = reverse("journeys:evidence", args=[journey.pk])
    response = officer_client.post(
        url,
        {
            "needs_ambassador": "True",
            "senior_sponsor_name": "Someone",
            "business_case_completed_on_0": "31",
            "business_case_completed_on_1": "2",
            "business_case_completed_on_2": "2026",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html and "must be a real date" in html
    assert Journey.objects.get(pk=journey.pk).senior_sponsor_name == ""


# --- readiness, end to end -------------------------------------------------------------------


def test_readiness_flow_end_to_end(member_client, journey):
    questionnaire = readiness.load_questionnaire()
    overview = reverse("journeys:readiness", args=[journey.pk])
    assert b"Start now" in member_client.get(overview).content
    response = member_client.post(reverse("journeys:readiness-start", args=[journey.pk]))
    assessment = ReadinessAssessment.objects.get(journey=journey)
    first = questionnaire.questions[0]
    assert response["Location"] == reverse(
        "journeys:readiness-question", args=[journey.pk, assessment.pk, first.code]
    )

    # nothing chosen: error summary, nothing saved
    page = member_client.post(response["Location"], {})
    assert page.status_code == 200
    assert b"Select the answer that fits your group best" in page.content
    assert b"<title>Error: " in page.content

    # answer half, leave, come back: resume where we stopped
    answers = answers_at(2)
    half = len(questionnaire.questions) // 2
    url = response["Location"]
    for question in questionnaire.questions[:half]:
        url = member_client.post(url, {"answer": answers[question.code]})["Location"]
    html = member_client.get(overview).content.decode()
    assert f"You have answered {half} of" in html
    assert url in html  # "Continue" goes to the first unanswered question
    back = member_client.get(url).content.decode()
    previous = questionnaire.questions[half - 1].code
    assert (
        f'href="{reverse("journeys:readiness-question", args=[journey.pk, assessment.pk, previous])}" class="govuk-back-link"'
        in back
    )

    for question in questionnaire.questions[half:]:
        url = member_client.post(url, {"answer": answers[question.code]})["Location"]
    check = reverse("journeys:readiness-check", args=[journey.pk, assessment.pk])
    assert url == check
    html = member_client.get(check).content.decode()
    assert "Check your answers" in html
    assert html.count("?change=1") == len(questionnaire.questions)

    # change one answer from the check page and come back to it
    change = reverse("journeys:readiness-question", args=[journey.pk, assessment.pk, first.code])
    best = next(o.code for o in first.options if o.score == 3)
    assert member_client.post(change + "?change=1", {"answer": best})["Location"] == check

    result_url = member_client.post(check)["Location"]
    result = member_client.get(result_url).content.decode()
    assert "Readiness result" in result
    for theme in questionnaire.themes:
        assert theme.name.replace("'", "&#x27;") in result
    assert "Some gaps" in result
    assert questionnaire.themes[1].recommendations["some_gaps"] in result

    # submitted: cannot be edited any more
    saved = ReadinessAssessment.objects.get(pk=assessment.pk)
    assert saved.is_submitted and saved.answers[first.code] == best
    assert member_client.get(change)["Location"] == result_url
    member_client.post(change, {"answer": first.options[0].code})
    assert ReadinessAssessment.objects.get(pk=assessment.pk).answers[first.code] == best
    assert AuditEvent.objects.filter(action="readiness.submitted").count() == 1


def test_submitting_an_incomplete_assessment_names_what_is_missing(member_client, journey):
    member_client.post(reverse("journeys:readiness-start", args=[journey.pk]))
    assessment = ReadinessAssessment.objects.get(journey=journey)
    check = reverse("journeys:readiness-check", args=[journey.pk, assessment.pk])
    response = member_client.post(check)
    assert response.status_code == 200
    assert b"Answer the question:" in response.content
    assert not ReadinessAssessment.objects.get(pk=assessment.pk).is_submitted


def test_earlier_attempts_are_compared_side_by_side(member_client, journey):
    from datetime import timedelta

    from django.utils import timezone

    first = submitted_assessment(journey, 0, timezone.now() - timedelta(days=60))
    second = submitted_assessment(journey, 3)
    html = member_client.get(
        reverse("journeys:readiness-result", args=[journey.pk, second.pk])
    ).content.decode()
    assert 'id="readiness-comparison"' in html
    table = html[html.index('id="readiness-comparison"') :]
    assert "Significant gaps" in table and "Ready" in table
    assert (
        first.submitted_at.astimezone(timezone.get_current_timezone()).strftime("%-d %b %Y")
        in table
    )
    overview = member_client.get(reverse("journeys:readiness", args=[journey.pk])).content.decode()
    assert 'id="readiness-comparison"' in overview
    assert "Start a new assessment" in overview


def test_unknown_question_is_404(member_client, journey):
    member_client.post(reverse("journeys:readiness-start", args=[journey.pk]))
    assessment = ReadinessAssessment.objects.get(journey=journey)
    url = reverse("journeys:readiness-question", args=[journey.pk, assessment.pk, "nope"])
    assert member_client.get(url).status_code == 404


def test_assessment_of_another_journey_is_404(member_client, journey):
    other, _ = group_with_member("other")
    foreign = submitted_assessment(other, 1)
    url = reverse("journeys:readiness-result", args=[journey.pk, foreign.pk])
    assert member_client.get(url).status_code == 404


def test_officer_sees_results_but_cannot_answer(officer_client, journey):
    submitted_assessment(journey, 1)
    html = officer_client.get(reverse("journeys:readiness", args=[journey.pk])).content.decode()
    assert "Start now" not in html and "Start a new assessment" not in html
    response = officer_client.post(reverse("journeys:readiness-start", args=[journey.pk]))
    assert response.status_code == 403
