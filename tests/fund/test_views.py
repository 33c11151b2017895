import csv
import io

import pytest
from django.urls import reverse

from mutualise.core.models import AuditEvent
from mutualise.fund import services
from mutualise.fund.models import Application, Award, FundRound
from tests.factories import UserFactory, grant
from tests.fund.factories import make_applicant, make_application, make_fund, make_round
from tests.fund.test_uploads import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def fund_round(officer):
    return make_round(officer)


def test_officer_creates_fund_and_round_through_pages(officer_client):
    response = officer_client.post(reverse("fund:fund-create"), {"name": "Growth Fund"})
    assert response.status_code == 302
    fund_url = response["Location"]
    page = officer_client.get(fund_url.rstrip("/") + "/rounds/new/")
    assert page.status_code == 200
    assert b"Need for support" in page.content  # default criteria from rules/fund_criteria.yaml
    data = {
        "name": "Round A",
        "opens_on": "01/01/2026",
        "closes_on": "31/12/2030",
        "budget_pence": "100,000.00",
        "maximum_award_pence": "25,000",
        "eligibility_rules": ["E1", "E5"],
        "years_since_go_live": "5",
        "minimum_words": "20",
        "min_match_share_percent": "0",
        "criterion_0_title": "Need",
        "criterion_0_weight": "2",
    }
    response = officer_client.post(fund_url.rstrip("/") + "/rounds/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    fund_round = FundRound.objects.get(name="Round A")
    assert fund_round.balance().budget == 10_000_000
    assert list(fund_round.criteria.values_list("title", "weight")) == [("Need", 2)]


@pytest.mark.parametrize(
    ("budget", "message"),
    [("-5", "cannot be negative"), ("10.555", "2 decimal places"), ("abc", "numbers only")],
)
def test_round_form_refuses_bad_money(officer_client, officer, budget, message):
    fund = make_fund(officer)
    response = officer_client.post(
        reverse("fund:round-create", args=[fund.pk]),
        {
            "name": "Bad",
            "opens_on": "01/01/2026",
            "closes_on": "31/12/2030",
            "budget_pence": budget,
            "maximum_award_pence": "1",
            "years_since_go_live": "5",
            "minimum_words": "20",
            "criterion_0_title": "Need",
            "criterion_0_weight": "1",
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert b"<title>Error:" in response.content
    assert not FundRound.objects.filter(name="Bad").exists()


def test_applicant_journey_pages(client, officer, fund_round):
    applicant, organisation = make_applicant(username="appl")
    client.force_login(applicant)
    assert client.get(reverse("fund:home")).status_code == 200
    assert client.get(reverse("fund:open-rounds")).status_code == 200
    response = client.post(
        reverse("fund:apply", args=[fund_round.pk]), {"organisation": str(organisation.pk)}
    )
    application = Application.objects.get(organisation=organisation)
    assert response["Location"] == reverse("fund:task-list", args=[application.pk])
    assert b"Not yet started" in client.get(response["Location"]).content
    question = reverse("fund:question", args=[application.pk, "delivers_in_england"])
    assert client.get(question).status_code == 200
    response = client.post(question, {"answer": "no"})
    assert response["Location"].endswith("/questions/mutual_status/")
    money = reverse("fund:question", args=[application.pk, "amount_requested"])
    bad = client.post(money, {"answer": "-10"})
    assert b"cannot be negative" in bad.content and b"<title>Error:" in bad.content
    for slug, value in [
        ("amount_requested", "20,000"),
        ("project_cost", "25000"),
        ("cash_match", "5000"),
        ("subsidy_received", "0"),
        ("mutual_status", "intends_to_become"),
        ("is_live", "no"),
        ("project_title", "Plan"),
        ("services_and_delivery_model", "Nursing"),
        ("growth_case", "word " * 30),
        ("senior_sponsor", "Jo, Director"),
    ]:
        client.post(reverse("fund:question", args=[application.pk, slug]), {"answer": value})
    check = client.get(reverse("fund:check-answers", args=[application.pk]))
    assert b"Not met" in check.content
    assert b"delivers services in England" in check.content or b"England" in check.content
    refused = client.post(
        reverse("fund:declaration", args=[application.pk]), {"full_name": "Pat", "confirm": "on"}
    )
    assert b"England" in refused.content and b"<title>Error:" in refused.content
    client.post(question, {"answer": "yes"})
    upload = client.post(
        reverse("fund:documents", args=[application.pk]),
        {"file": io.BytesIO(b"not a pdf")},
        format="multipart",
    )
    assert upload.status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad_file = client.post(
        reverse("fund:documents", args=[application.pk]),
        {"file": SimpleUploadedFile("plan.pdf", b"GIF89a")},
    )
    assert b"not a real PDF" in bad_file.content
    good_file = client.post(
        reverse("fund:documents", args=[application.pk]),
        {"file": SimpleUploadedFile("plan.pdf", PDF)},
    )
    assert good_file.status_code == 302
    attachment = application.attachments.get()
    download = client.get(attachment.get_absolute_url())
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    response = client.post(
        reverse("fund:declaration", args=[application.pk]), {"full_name": "Pat", "confirm": "on"}
    )
    assert b"Application submitted" in response.content
    assert Application.objects.get(pk=application.pk).status == "submitted"
    # Submitted: the question pages no longer edit; they send the applicant to the status page.
    assert client.post(question, {"answer": "no"}).status_code == 302
    assert Application.objects.get(pk=application.pk).answers["delivers_in_england"] == "yes"
    assert client.get(reverse("fund:application-detail", args=[application.pk])).status_code == 200


def test_other_people_get_404_or_403(client, officer, fund_round, member):
    from django.core.files.uploadedfile import SimpleUploadedFile

    application = make_application(officer, fund_round, status="draft")
    attachment = services.add_attachment(
        actor=application.created_by,
        application=application,
        upload=SimpleUploadedFile("plan.pdf", PDF),
    )
    client.force_login(application.created_by)
    assert client.get(attachment.get_absolute_url()).status_code == 200  # the owner can
    client.force_login(member)
    assert client.get(reverse("fund:application-detail", args=[application.pk])).status_code == 404
    assert client.get(reverse("fund:task-list", args=[application.pk])).status_code == 404
    download = client.get(attachment.get_absolute_url())
    assert download.status_code == 404 and PDF not in download.content
    assert client.get(reverse("fund:round-summary", args=[fund_round.pk])).status_code == 403
    assert client.get(reverse("fund:export-ledger", args=[fund_round.pk])).status_code == 403


def test_officer_assess_decide_pay_pages(officer_client, officer, fund_round):
    from django.test import Client

    client = Client()
    assessor = grant(UserFactory(username="ass-1", full_name="Ann Assessor"), "assessor")
    conflicted = grant(UserFactory(username="ass-2", full_name="Con Flicted"), "assessor")
    applicant, organisation = make_applicant()
    grant(conflicted, "staff_group_member", organisation)
    application = make_application(
        officer, fund_round, applicant=applicant, organisation=organisation
    )
    page = officer_client.get(reverse("fund:assign-assessor", args=[application.pk]))
    assert b"Cannot be assigned" in page.content and b"staff group member" in page.content
    blocked = officer_client.post(
        reverse("fund:assign-assessor", args=[application.pk]), {"assessor": str(conflicted.pk)}
    )
    assert b"cannot assess this application" in blocked.content
    officer_client.post(
        reverse("fund:assign-assessor", args=[application.pk]), {"assessor": str(assessor.pk)}
    )
    assignment = application.assignments.get()
    client.force_login(assessor)
    assert client.get(reverse("fund:my-assessments")).status_code == 200
    data = {"finish": "1", "overall_comment": "Strong"}
    for criterion in fund_round.criteria.all():
        data[f"score_{criterion.pk}"] = "4"
        data[f"comment_{criterion.pk}"] = "Good"
    assert client.post(reverse("fund:assessment", args=[assignment.pk]), data).status_code == 302
    detail = officer_client.get(reverse("fund:application-detail", args=[application.pk]))
    text = detail.content.decode()
    assert "Ann Assessor" in text, text
    assert "80%" in text, text[text.find("Assessments") :][:3000]
    decision = reverse("fund:decision", args=[application.pk])
    assert officer_client.get(decision).status_code == 200
    refused = officer_client.post(
        decision, {"action": "approve", "approve-amount_pence": "30,000.00"}
    )
    assert b"cannot be more than" in refused.content
    officer_client.post(decision, {"action": "approve", "approve-amount_pence": "20,000"})
    award = Award.objects.get(application=application)
    officer_client.post(
        reverse("fund:milestone-create", args=[award.pk]),
        {"title": "Plan delivered", "amount_pence": "20000"},
    )
    milestone = award.milestones.get()
    paid = officer_client.post(
        reverse("fund:payment-create", args=[award.pk]),
        {"milestone": str(milestone.pk), "amount_pence": "5,000", "evidence": "Invoice 1"},
    )
    assert paid.status_code == 302
    assert award.balance().paid == 500_000
    officer_client.post(
        reverse("fund:award-reduce", args=[award.pk]), {"amount_pence": "1000", "reason": "Cheaper"}
    )
    officer_client.post(
        reverse("fund:award-clawback", args=[award.pk]),
        {"amount_pence": "100", "reason": "Overpaid"},
    )
    balance = award.balance()
    assert (balance.committed, balance.paid) == (1_890_000, 490_000)
    assert officer_client.get(award.get_absolute_url()).status_code == 200
    summary = officer_client.get(reverse("fund:round-summary", args=[fund_round.pk]))
    assert b"Approval rate" in summary.content and b"100%" in summary.content
    listing = officer_client.get(
        reverse("fund:round-applications", args=[fund_round.pk]) + "?status=approved"
    )
    assert application.reference.encode() in listing.content
    for name in ("export-applications", "export-ledger"):
        response = officer_client.get(reverse(f"fund:{name}", args=[fund_round.pk]))
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert len(rows) > 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "fund.application_approved",
        "fund.payment_made",
        "fund.award_reduced",
        "fund.award_clawed_back",
        "fund.assessor_assigned",
        "fund.scores_saved",
    } <= actions


def test_csv_cells_cannot_be_formulas(officer, fund_round):
    from mutualise.fund.reports import safe_cell

    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("+1") == "'+1"
    assert safe_cell("@SUM") == "'@SUM"
    assert safe_cell("\tx") == "'\tx"
    assert safe_cell("Plain") == "Plain"
    from decimal import Decimal

    assert safe_cell(Decimal("-1.00")) == "-1.00"


def test_email_settings_page(client, member):
    client.force_login(member)
    response = client.post(reverse("fund:email-settings"), {"emails": "essential"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email_opt_out


def test_closed_round_refuses_start(client, officer):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    closed = make_round(
        officer,
        name="Closed",
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=1),
    )
    applicant, organisation = make_applicant()
    client.force_login(applicant)
    response = client.post(
        reverse("fund:apply", args=[closed.pk]), {"organisation": str(organisation.pk)}
    )
    assert b"not open" in response.content
    assert services  # services are the only writers
