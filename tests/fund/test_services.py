import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mutualise.core.models import AuditEvent, Notification
from mutualise.core.tasks import send_notification
from mutualise.fund import services
from mutualise.fund.models import Application, AssessorAffiliation, LedgerEntry
from mutualise.fund.services import Refused
from tests.factories import UserFactory, grant
from tests.fund.factories import GOOD_ANSWERS, make_applicant, make_application, make_round
from tests.fund.test_uploads import DOCX, PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def fund_round(officer):
    return make_round(officer)


@pytest.fixture
def assessor(db):
    return grant(UserFactory(username="assessor"), "assessor")


def test_round_budget_is_an_allocation_entry(officer, fund_round):
    assert fund_round.balance().budget == 10_000_000
    entry = LedgerEntry.objects.get(round=fund_round)
    assert entry.kind == "allocation"
    assert fund_round.criteria.count() == 5
    assert AuditEvent.objects.filter(action="fund.round_created").exists()


def test_round_needs_subsidy_cap_and_match_share(officer):
    with pytest.raises(Refused) as refused:
        make_round(officer, name="Bad", min_match_share_percent=None, subsidy_cap_pence=None)
    text = " ".join(refused.value.reasons)
    assert "cash match share" in text and "subsidy cap" in text


@pytest.mark.parametrize("budget", [1.5, -100, 0, "100"])
def test_round_refuses_bad_budget(officer, budget):
    with pytest.raises(Refused):
        make_round(officer, name="Bad budget", budget_pence=budget)


def test_only_officers_create_funds(member):
    with pytest.raises(PermissionDenied):
        services.create_fund(actor=member, name="Mine")


def test_budget_change_is_a_new_allocation_and_not_below_committed(officer, fund_round):
    application = make_application(officer, fund_round, status="in_assessment")
    services.approve_application(actor=officer, application=application, amount_pence=2_000_000)
    services.update_round(actor=officer, fund_round=fund_round, budget_pence=12_000_000)
    assert fund_round.balance().budget == 12_000_000
    assert LedgerEntry.objects.filter(round=fund_round, kind="allocation").count() == 2
    with pytest.raises(Refused, match="already committed"):
        services.update_round(actor=officer, fund_round=fund_round, budget_pence=1_000_000)


def deliver_all():
    """Run the core email task for every queued notification, whatever the task backend."""
    for notification in Notification.objects.filter(sent_at__isnull=True, skipped_reason=""):
        send_notification.call(notification.pk)


def test_application_flow_submit_and_email(officer, fund_round, django_capture_on_commit_callbacks):
    applicant, organisation = make_applicant(username="applicant")
    application = make_application(
        officer, fund_round, status="draft", applicant=applicant, organisation=organisation
    )
    assert application.status == "draft"
    assert application.amount_requested_pence == 2_000_000
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        application = services.submit_application(
            actor=applicant, application=application, declaration_name="Pat Jones", confirmed=True
        )
    assert application.status == "submitted"
    deliver_all()
    assert len(mail.outbox) == 1
    assert application.reference in mail.outbox[0].subject
    assert AuditEvent.objects.filter(action="fund.answer_saved").count() == len(GOOD_ANSWERS)


def test_opted_out_user_gets_no_submission_email_but_gets_decision(
    officer, fund_round, assessor, django_capture_on_commit_callbacks
):
    applicant, organisation = make_applicant(username="quiet")
    services.set_email_preference(actor=applicant, opt_out=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        application = make_application(
            officer,
            fund_round,
            status="in_assessment",
            applicant=applicant,
            organisation=organisation,
            assessor=assessor,
        )
    deliver_all()
    assert not [m for m in mail.outbox if "received" in m.subject]
    assert Notification.objects.filter(
        user=applicant, skipped_reason__contains="turned off"
    ).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_application(actor=officer, application=application, reasons="Weak case")
    deliver_all()
    assert [m for m in mail.outbox if "unsuccessful" in m.subject]


def test_submission_lists_every_failed_rule(officer, fund_round):
    applicant, organisation = make_applicant()
    application = make_application(
        officer,
        fund_round,
        status="draft",
        applicant=applicant,
        organisation=organisation,
        answers={"delivers_in_england": "no", "mutual_status": "neither"},
    )
    with pytest.raises(Refused) as refused:
        services.submit_application(
            actor=applicant, application=application, declaration_name="", confirmed=False
        )
    text = " | ".join(refused.value.reasons)
    assert "England" in text
    assert "public service mutual" in text
    assert "declaration" in text
    assert Application.objects.get(pk=application.pk).status == "draft"


def test_nothing_submitted_after_close(officer):
    now = timezone.now()
    fund_round = make_round(
        officer,
        name="Closing",
        opens_at=now - dt.timedelta(days=5),
        closes_at=now + dt.timedelta(days=1),
    )
    applicant, organisation = make_applicant()
    application = make_application(
        officer, fund_round, status="draft", applicant=applicant, organisation=organisation
    )
    services.update_round(
        actor=officer, fund_round=fund_round, closes_at=now - dt.timedelta(seconds=1)
    )
    application = Application.objects.get(pk=application.pk)
    with pytest.raises(Refused, match="closed"):
        services.submit_application(
            actor=applicant, application=application, declaration_name="X", confirmed=True
        )
    with pytest.raises(Refused, match="closed"):
        services.save_answer(
            actor=applicant, application=application, slug="project_title", value="New"
        )
    late_applicant, late_organisation = make_applicant()
    with pytest.raises(Refused, match="not open"):
        services.start_application(
            actor=late_applicant, fund_round=fund_round, organisation=late_organisation
        )


def test_submitted_application_cannot_be_edited(officer, fund_round):
    applicant, organisation = make_applicant()
    application = make_application(
        officer, fund_round, applicant=applicant, organisation=organisation
    )
    with pytest.raises(Refused, match="can no longer be changed"):
        services.save_answer(
            actor=applicant, application=application, slug="project_title", value="Changed"
        )


def test_other_people_cannot_edit(officer, fund_round, member):
    application = make_application(officer, fund_round, status="draft")
    with pytest.raises(PermissionDenied):
        services.save_answer(
            actor=member, application=application, slug="project_title", value="Mine now"
        )


def test_attachments_checked_before_storing(officer, fund_round, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    applicant, organisation = make_applicant()
    application = make_application(
        officer, fund_round, status="draft", applicant=applicant, organisation=organisation
    )
    good = services.add_attachment(
        actor=applicant, application=application, upload=SimpleUploadedFile("plan.docx", DOCX)
    )
    assert good.kind == "docx"
    assert (tmp_path / good.file.name).exists()
    assert "plan" not in good.file.name  # stored under a random name
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    with pytest.raises(Refused, match="not a real PDF"):
        services.add_attachment(
            actor=applicant,
            application=application,
            upload=SimpleUploadedFile("fake.pdf", b"<html>"),
        )
    with pytest.raises(Refused, match="PDF, DOCX or XLSX"):
        services.add_attachment(
            actor=applicant, application=application, upload=SimpleUploadedFile("x.html", PDF)
        )
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(Refused, match="smaller than 10 MB"):
        services.add_attachment(actor=applicant, application=application, upload=big)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == before


def test_conflicted_assessors_cannot_be_assigned(officer, fund_round, assessor, public_body):
    applicant, organisation = make_applicant()
    application = make_application(
        officer, fund_round, applicant=applicant, organisation=organisation
    )
    member_assessor = grant(grant(UserFactory(), "assessor"), "staff_group_member", organisation)
    with pytest.raises(Refused, match="staff group member of"):
        services.assign_assessor(actor=officer, application=application, assessor=member_assessor)
    employee = grant(UserFactory(full_name="Eve Employee"), "assessor")
    services.record_affiliation(
        actor=officer, user=employee, organisation=organisation.parent_body, relationship="employee"
    )
    with pytest.raises(Refused, match="parent body"):
        services.assign_assessor(actor=officer, application=application, assessor=employee)
    assert AssessorAffiliation.objects.count() == 1
    services.assign_assessor(actor=officer, application=application, assessor=assessor)
    assert Application.objects.get(pk=application.pk).status == "in_assessment"


def test_ambassador_link_blocks_assignment(officer, fund_round, assessor, monkeypatch):
    monkeypatch.setattr(services, "_is_ambassador_to", lambda user, organisation: True)
    application = make_application(officer, fund_round)
    with pytest.raises(Refused, match="ambassador to"):
        services.assign_assessor(actor=officer, application=application, assessor=assessor)


def test_scoring_and_moderation(officer, fund_round, assessor):
    application = make_application(officer, fund_round, status="in_assessment", assessor=assessor)
    assignment = application.assignments.get()
    criteria = list(fund_round.criteria.all())
    with pytest.raises(Refused, match="Score every criterion"):
        services.save_scores(
            actor=assessor, assignment=assignment, scores={criteria[0].pk: (3, "ok")}, complete=True
        )
    with pytest.raises(Refused, match="from 0 to 5"):
        services.save_scores(
            actor=assessor, assignment=assignment, scores={criteria[0].pk: (9, "ok")}
        )
    with pytest.raises(PermissionDenied):
        services.save_scores(actor=officer, assignment=assignment, scores={})
    services.save_scores(
        actor=assessor,
        assignment=assignment,
        scores={c.pk: (4, "Good evidence") for c in criteria},
        complete=True,
    )
    score = assignment.scores.first()
    services.moderate_score(actor=officer, score=score, moderated_score=3, note="Too generous")
    assert score.final_score == 3


def test_decisions(officer, fund_round, assessor):
    application = make_application(officer, fund_round, status="in_assessment", assessor=assessor)
    with pytest.raises(Refused, match="asked for"):
        services.approve_application(actor=officer, application=application, amount_pence=2_000_001)
    with pytest.raises(Refused, match="more than £0"):
        services.approve_application(actor=officer, application=application, amount_pence=-5)
    with pytest.raises(Refused, match="whole number"):
        services.approve_application(actor=officer, application=application, amount_pence=10.5)
    award = services.approve_application(
        actor=officer, application=application, amount_pence=1_500_000
    )
    assert award.balance().committed == 1_500_000
    assert Application.objects.get(pk=application.pk).status == "approved"


def test_round_maximum_award(officer, assessor):
    fund_round = make_round(officer, name="Small", maximum_award_pence=1_000_000)
    application = make_application(officer, fund_round, status="in_assessment", assessor=assessor)
    with pytest.raises(Refused, match=r"maximum award of £10,000\.00"):
        services.approve_application(actor=officer, application=application, amount_pence=1_500_000)


def test_over_budget_approval_shows_remaining(officer, assessor):
    fund_round = make_round(officer, name="Tight", budget_pence=3_000_000)
    first = make_application(officer, fund_round, status="in_assessment", assessor=assessor)
    second = make_application(officer, fund_round, status="in_assessment", assessor=assessor)
    services.approve_application(actor=officer, application=first, amount_pence=2_000_000)
    with pytest.raises(Refused, match=r"£10,000.00 remains"):
        services.approve_application(actor=officer, application=second, amount_pence=2_000_000)
    assert fund_round.balance().committed == 2_000_000


def test_more_information_round_trip(officer, fund_round, assessor):
    applicant, organisation = make_applicant()
    application = make_application(
        officer,
        fund_round,
        status="in_assessment",
        applicant=applicant,
        organisation=organisation,
        assessor=assessor,
    )
    services.request_more_information(
        actor=officer, application=application, question="Send the adviser's quote"
    )
    application = Application.objects.get(pk=application.pk)
    assert application.status == "more_information_requested"
    with pytest.raises(Refused, match="Answer the programme's question"):
        services.submit_application(
            actor=applicant, application=application, declaration_name="A", confirmed=True
        )
    services.answer_information_request(actor=applicant, application=application, answer="Attached")
    application = services.submit_application(
        actor=applicant, application=application, declaration_name="A", confirmed=True
    )
    assert application.status == "submitted"
    services.start_assessment(actor=officer, application=application)
    assert Application.objects.get(pk=application.pk).status == "in_assessment"


def test_payments_reductions_and_clawbacks(officer, fund_round, assessor):
    application = make_application(officer, fund_round, status="in_assessment", assessor=assessor)
    award = services.approve_application(
        actor=officer, application=application, amount_pence=2_000_000
    )
    first = services.add_milestone(
        actor=officer, award=award, title="Business plan", amount_pence=1_200_000
    )
    services.add_milestone(actor=officer, award=award, title="Legal set-up", amount_pence=800_000)
    with pytest.raises(Refused, match="left to plan"):
        services.add_milestone(actor=officer, award=award, title="Extra", amount_pence=1)
    with pytest.raises(Refused, match=r"milestone has £12,000\.00 left"):
        services.record_payment(
            actor=officer, award=award, milestone=first, amount_pence=1_300_000, evidence="Invoice"
        )
    services.record_payment(
        actor=officer,
        award=award,
        milestone=first,
        amount_pence=1_200_000,
        evidence="Adviser's invoice 123",
    )
    with pytest.raises(Refused, match="claw it back"):
        services.reduce_award(actor=officer, award=award, amount_pence=900_000, reason="Less")
    services.reduce_award(actor=officer, award=award, amount_pence=300_000, reason="Cheaper quote")
    services.claw_back(actor=officer, award=award, amount_pence=200_000, reason="Overpaid")
    with pytest.raises(Refused, match="already paid"):
        services.claw_back(actor=officer, award=award, amount_pence=2_000_000, reason="x")
    balance = award.balance()
    assert (balance.committed, balance.paid) == (1_500_000, 1_000_000)
    assert fund_round.balance().remaining == 10_000_000 - 1_500_000


def test_ledger_is_append_only(officer, fund_round):
    entry = LedgerEntry.objects.get(round=fund_round)
    entry.amount_pence = 1
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.update(amount_pence=0)


def test_withdraw(officer, fund_round):
    applicant, organisation = make_applicant()
    application = make_application(
        officer, fund_round, applicant=applicant, organisation=organisation
    )
    application = services.withdraw_application(actor=applicant, application=application)
    assert application.status == "withdrawn"
    again = services.start_application(
        actor=applicant, fund_round=fund_round, organisation=organisation
    )
    assert again.pk != application.pk
