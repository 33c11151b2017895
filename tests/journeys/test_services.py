"""journeys.services: moving groups, recording evidence, the readiness self-assessment."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from mutualise.core.models import AuditEvent
from mutualise.journeys import readiness, services
from mutualise.journeys.models import Journey
from tests.factories import IdentifierFactory, UserFactory, grant
from tests.journeys.factories import answers_at, at_stage, group_with_member

pytestmark = pytest.mark.django_db


def test_move_with_evidence_moves_and_writes_audit(journey, officer):
    services.update_evidence(journey, {"senior_sponsor_name": "Chief Executive"}, actor=officer)
    moved = services.move_stage(journey, "OPTIONS_APPRAISAL", actor=officer, note="Board paper 12")
    assert moved.stage == "OPTIONS_APPRAISAL"
    assert Journey.objects.get(pk=journey.pk).stage == "OPTIONS_APPRAISAL"
    event = AuditEvent.objects.filter(action="journey.moved").get()
    assert event.before == {"stage": "EXPLORE"}
    assert event.after == {"stage": "OPTIONS_APPRAISAL", "note": "Board paper 12"}
    assert event.organisation_id == journey.organisation_id


def test_move_without_evidence_is_refused_and_changes_nothing(journey, officer):
    with pytest.raises(services.MoveRefused) as refused:
        services.move_stage(journey, "OPTIONS_APPRAISAL", actor=officer)
    assert refused.value.reasons == [
        "Record the senior sponsor in the parent body before leaving Explore."
    ]
    assert Journey.objects.get(pk=journey.pk).stage == "EXPLORE"
    assert not AuditEvent.objects.filter(action="journey.moved").exists()


def test_refusal_lists_every_missing_piece(officer):
    journey = at_stage("LEGAL_FORM_AND_GOVERNANCE")
    with pytest.raises(services.MoveRefused) as refused:
        services.move_stage(journey, "CONTRACT_AND_TRANSFER", actor=officer)
    assert len(refused.value.reasons) == 2
    assert any("legal form" in r for r in refused.value.reasons)
    assert any("staff control" in r for r in refused.value.reasons)


def test_illegal_target_is_refused_with_the_allowed_ones(journey, officer):
    with pytest.raises(services.MoveRefused) as refused:
        services.move_stage(journey, "LIVE", actor=officer)
    assert "cannot move from Explore to Live" in refused.value.reasons[0]
    assert "Options appraisal" in refused.value.reasons[0]
    assert Journey.objects.get(pk=journey.pk).stage == "EXPLORE"


def test_members_never_move_stages(journey, member):
    with pytest.raises(PermissionDenied):
        services.move_stage(journey, "WITHDRAWN", actor=member)
    assert Journey.objects.get(pk=journey.pk).stage == "EXPLORE"


def test_withdrawal_needs_no_evidence(journey, officer):
    assert services.move_stage(journey, "WITHDRAWN", actor=officer).stage == "WITHDRAWN"


def test_going_live_needs_entity_and_contract_then_makes_a_mutual(officer):
    journey = at_stage("CONTRACT_AND_TRANSFER")
    journey.organisation.legal_form = "cic_guarantee"
    journey.organisation.save()
    services.update_evidence(
        journey,
        {"procurement_route": "direct_award", "service_contract_reference": "C-1"},
        actor=officer,
    )
    with pytest.raises(services.MoveRefused) as refused:
        services.move_stage(journey, "LIVE", actor=officer)
    assert "register identifier" in refused.value.reasons[0]
    IdentifierFactory(organisation=journey.organisation, value="04142000")
    moved = services.move_stage(journey, "LIVE", actor=officer)
    moved.organisation.refresh_from_db()
    assert moved.organisation.kind == "mutual"
    assert moved.organisation.left_public_sector is True
    assert moved.go_live_date is not None


def test_member_may_record_sponsor_and_needs_only(journey, member):
    services.update_evidence(
        journey,
        {"senior_sponsor_name": "Ms Sponsor", "stated_needs": "Legal advice"},
        actor=member,
    )
    assert Journey.objects.get(pk=journey.pk).senior_sponsor_name == "Ms Sponsor"
    with pytest.raises(PermissionDenied):
        services.update_evidence(
            journey, {"business_case_completed_on": date(2025, 1, 1)}, actor=member
        )
    assert Journey.objects.get(pk=journey.pk).business_case_completed_on is None


def test_outsider_cannot_record_evidence(journey):
    outsider = UserFactory(username="outsider")
    with pytest.raises(PermissionDenied):
        services.update_evidence(journey, {"stated_needs": "x"}, actor=outsider)


def test_evidence_update_is_audited_with_before_and_after(journey, officer):
    services.update_evidence(journey, {"procurement_route": "competition"}, actor=officer)
    event = AuditEvent.objects.get(action="journey.evidence_updated")
    assert event.before == {"procurement_route": ""}
    assert event.after == {"procurement_route": "competition"}


# --- readiness -------------------------------------------------------------------------------


def test_start_resumes_the_unfinished_assessment(journey, member):
    first = services.start_assessment(journey, actor=member)
    again = services.start_assessment(journey, actor=member)
    assert first.pk == again.pk
    assert first.questionnaire_version == readiness.current_version()


def test_answers_are_saved_as_you_go_and_audited(journey, member):
    assessment = services.start_assessment(journey, actor=member)
    question = readiness.load_questionnaire().questions[0]
    services.record_answer(assessment, question.code, question.options[2].code, actor=member)
    assessment.refresh_from_db()
    assert assessment.answers == {question.code: question.options[2].code}
    assert AuditEvent.objects.filter(action="readiness.answered").count() == 1


def test_unknown_answers_are_refused(journey, member):
    assessment = services.start_assessment(journey, actor=member)
    question = readiness.load_questionnaire().questions[0]
    with pytest.raises(ValueError):
        services.record_answer(assessment, question.code, "maybe", actor=member)
    with pytest.raises(ValueError):
        services.record_answer(assessment, "no_such_question", "x", actor=member)


def test_submit_needs_every_answer_then_locks(journey, member):
    assessment = services.start_assessment(journey, actor=member)
    with pytest.raises(readiness.IncompleteAnswers):
        services.submit_assessment(assessment, actor=member)
    for code, option in answers_at(3).items():
        services.record_answer(assessment, code, option, actor=member)
    submitted = services.submit_assessment(assessment, actor=member)
    assert submitted.is_submitted
    assert {t["band"] for t in submitted.result["themes"]} == {"ready"}
    question = readiness.load_questionnaire().questions[0]
    with pytest.raises(services.AssessmentLocked):
        services.record_answer(submitted, question.code, question.options[0].code, actor=member)
    with pytest.raises(services.AssessmentLocked):
        services.submit_assessment(submitted, actor=member)
    # the next start is a new attempt; the submitted one stays
    assert services.start_assessment(journey, actor=member).pk != submitted.pk


def test_only_the_groups_members_take_its_assessment(journey, officer):
    _other, other_member = group_with_member("other-member")
    with pytest.raises(PermissionDenied):
        services.start_assessment(journey, actor=other_member)
    with pytest.raises(PermissionDenied):
        services.start_assessment(journey, actor=officer)
    ambassador = grant(UserFactory(username="amb"), "ambassador")
    with pytest.raises(PermissionDenied):
        services.start_assessment(journey, actor=ambassador)


def test_members_are_emailed_an_absolute_link_to_their_journey(journey, officer, member, settings):
    from mutualise.core.models import Notification

    settings.MUTUALISE_SITE_URL = "https://mutuals.example.gov.uk"
    services.update_evidence(journey, {"senior_sponsor_name": "Chief Executive"}, actor=officer)
    services.move_stage(journey, "OPTIONS_APPRAISAL", actor=officer)
    [email] = Notification.objects.filter(user=member)
    assert f"https://mutuals.example.gov.uk{journey.get_absolute_url()}" in email.body
