"""The retention policy as data (rules/personal_data_retention.yaml), the privacy notice that
renders it, and `mutualise personal-data purge` applying it, with rows just inside and just
outside each period."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from typer.testing import CliRunner

from mutualise.core import personal_data
from mutualise.core.audit import verify_chain
from mutualise.core.models import AuditEvent, Notification, RetentionRun, User
from mutualise.core.retention import PURGE_HANDLERS, load_policy, parse_policy
from mutualise.rules import RulesError, load_yaml
from tests.factories import UserFactory, grant

# Rows are placed this far inside or outside a period. The command test purges at its own
# "now", a moment after the rows were made, which this margin covers.
MINUTE = dt.timedelta(minutes=1)
PDF = b"%PDF-1.7\n%test\n"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WHITENOISE_USE_FINDERS = False


def days(category: str) -> dt.timedelta:
    period = load_policy().category(category).period_days
    assert period is not None
    return dt.timedelta(days=period)


# --- the policy file -------------------------------------------------------------------------


def test_the_policy_cites_the_law_and_marks_periods_as_operator_policy():
    policy = load_policy()
    assert "Article 5(1)(e)" in policy.storage_limitation
    assert all("Article 6(1)(" in text for text in policy.lawful_bases.values())
    assert "not periods set by law" in policy.policy_note
    assert load_yaml("personal_data_retention.yaml")["version"] == policy.version


def test_every_category_of_personal_data_the_models_hold_is_listed():
    codes = {c.code for c in load_policy().categories}
    assert {
        "accounts",
        "role_grants",
        "two_factor",
        "sessions",
        "sign_in_attempts",
        "notifications",
        "closed_application_attachments",
        "fund_records",
        "engagement_notes",
        "audit_log",
    } <= codes


def test_every_purge_handler_in_the_policy_exists_in_the_code():
    named = {c.purge for c in load_policy().categories} - {"none"}
    assert named <= set(personal_data._PURGE_HANDLERS)
    assert set(personal_data._PURGE_HANDLERS) == PURGE_HANDLERS - {"none"}


def _minimal(**category):
    item = {
        "code": "x",
        "name": "X",
        "data": "d",
        "held_in": "core.User",
        "purpose": "p",
        "lawful_basis": "public_task",
        "kept": "1 day",
        "period_days": 1,
        "at_end": "delete",
        "purge": "sessions",
    }
    item.update(category)
    return {
        "version": "t",
        "policy_note": "policy",
        "law": {
            "storage_limitation": "UK GDPR Article 5(1)(e)",
            "lawful_bases": {"public_task": "UK GDPR Article 6(1)(e), public task: ..."},
        },
        "categories": [item],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lawful_basis": "because"}, "lawful_basis 'because'"),
        ({"at_end": "shred"}, "at_end 'shred'"),
        ({"purge": "burn"}, "unknown purge handler"),
        ({"period_days": None}, "needs period_days"),
        ({"period_days": -1}, "needs period_days"),
        ({"purge": "closed_application_attachments"}, "needs application_statuses"),
    ],
)
def test_a_broken_policy_is_refused_with_the_reason(change, message):
    parse_policy(_minimal())
    with pytest.raises(RulesError, match=message):
        parse_policy(_minimal(**change))


def test_a_lawful_basis_must_cite_article_6():
    data = _minimal()
    data["law"]["lawful_bases"]["public_task"] = "because we can"
    with pytest.raises(RulesError, match="Article 6"):
        parse_policy(data)


# --- the privacy notice renders it ------------------------------------------------------------


@pytest.mark.django_db
def test_the_privacy_notice_renders_the_policy_table(client):
    page = client.get(reverse("core:privacy")).content.decode()
    policy = load_policy()
    assert "Article 5(1)(e)" in page and "Article 6(1)(e), public task" in page
    for category in policy.categories:
        assert category.name.replace("'", "&#x27;") in page
        assert category.kept.replace("'", "&#x27;") in page
    assert page.count('<tr class="govuk-table__row">') == len(policy.categories) + 1
    assert f"Retention policy version {policy.version}" in page


# --- the purge, with known answers -------------------------------------------------------------


def _session(expires: dt.datetime) -> str:
    store = SessionStore()
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=expires)
    return str(store.session_key)


def _attempts(at: dt.datetime, username: str) -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    common = {
        "user_agent": "test",
        "ip_address": "192.0.2.1",
        "username": username,
        "http_accept": "*/*",
        "path_info": "/sign-in/",
    }
    AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**common)
    AccessFailureLog.objects.create(**common)
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username=username).update(attempt_time=at)


def _closed_application(officer, status: str, closed_at: dt.datetime, name: str):
    from mutualise.fund.models import Application, Attachment
    from tests.factories import OrganisationFactory
    from tests.fund.factories import make_round

    fund_round = make_round(officer, name=f"Round {name}")
    application = Application.objects.create(
        round=fund_round,
        organisation=OrganisationFactory(),
        reference=f"APP-{name}",
        status=status,
        updated_at=closed_at,
        decided_at=closed_at if status == "rejected" else None,
    )
    attachment = Attachment(
        application=application,
        original_name=f"{name}.pdf",
        kind="pdf",
        content_type="application/pdf",
        size_bytes=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
    )
    attachment.file.save(f"{name}.pdf", ContentFile(PDF), save=False)
    attachment.save()
    return attachment


@pytest.fixture
def aged_world(db, officer):
    """Rows one minute inside and one minute outside each purged category's period."""
    now = timezone.now()
    world: dict = {"now": now}
    world["session_live"] = _session(now + MINUTE)
    world["session_expired"] = _session(now - MINUTE)
    _attempts(now - days("sign_in_attempts") + MINUTE, "inside")
    _attempts(now - days("sign_in_attempts") - MINUTE, "outside")
    person = UserFactory(username="reader")
    for label, offset in (("inside", MINUTE), ("outside", -MINUTE)):
        note = Notification.objects.create(user=person, subject=label, body="b")
        Notification.objects.filter(pk=note.pk).update(
            created_at=now - days("notifications") + offset
        )
    accounts = days("accounts")
    world["inactive"] = UserFactory(
        username="gone", full_name="Gone Away", last_login=now - accounts - MINUTE
    )
    world["recent"] = UserFactory(username="recent", last_login=now - accounts + MINUTE)
    world["never_signed_in"] = UserFactory(username="never", date_joined=now - accounts - MINUTE)
    world["with_role"] = grant(
        UserFactory(username="rolled", last_login=now - accounts - MINUTE), "assessor"
    )
    world["superuser"] = UserFactory(
        username="root", is_superuser=True, last_login=now - accounts - MINUTE
    )
    User.objects.filter(pk=person.pk).update(last_login=now)
    closed = days("closed_application_attachments")
    world["withdrawn_old"] = _closed_application(officer, "withdrawn", now - closed - MINUTE, "w1")
    world["rejected_old"] = _closed_application(officer, "rejected", now - closed - MINUTE, "r1")
    world["withdrawn_new"] = _closed_application(officer, "withdrawn", now - closed + MINUTE, "w2")
    world["submitted_old"] = _closed_application(officer, "submitted", now - closed - MINUTE, "s1")
    return world


EXPECTED = {
    "accounts": 2,  # "gone" and "never"; not "recent", not "rolled" (holds a role), not root
    "sessions": 1,
    "sign_in_attempts": 3,  # one row in each of axes' three tables
    "notifications": 1,
    "closed_application_attachments": 2,  # withdrawn and rejected, outside the period
    "engagement_notes": 0,
}


@pytest.mark.django_db
def test_a_dry_run_counts_and_changes_nothing(aged_world):
    now = aged_world["now"]
    before = (Session.objects.count(), Notification.objects.count(), AuditEvent.objects.count())
    summary = personal_data.purge(dry_run=True, now=now)
    assert summary.counts == EXPECTED
    assert summary.run_id is None and not RetentionRun.objects.exists()
    after = (Session.objects.count(), Notification.objects.count(), AuditEvent.objects.count())
    assert before == after
    assert User.objects.filter(username="gone").exists()


@pytest.mark.django_db
def test_purge_applies_each_period_with_rows_just_inside_and_just_outside(
    aged_world, django_capture_on_commit_callbacks
):
    from axes.models import AccessAttempt

    from mutualise.fund.models import Attachment

    w = aged_world
    now = w["now"]
    old_files = [w["withdrawn_old"].file.path, w["rejected_old"].file.path]
    with django_capture_on_commit_callbacks(execute=True):  # files go after the commit
        summary = personal_data.purge(now=now)
    assert summary.counts == EXPECTED

    assert set(Session.objects.values_list("session_key", flat=True)) == {w["session_live"]}
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"inside"}
    assert set(Notification.objects.values_list("subject", flat=True)) == {"inside"}

    for key in ("inactive", "never_signed_in"):
        user = User.objects.get(pk=w[key].pk)
        assert user.username == f"erased-user-{user.pk}" and not user.is_active
        assert user.full_name == "" and user.email == ""
    for key, username in (("recent", "recent"), ("with_role", "rolled"), ("superuser", "root")):
        assert User.objects.get(pk=w[key].pk).username == username

    remaining = set(Attachment.objects.values_list("original_name", flat=True))
    assert remaining == {"w2.pdf", "s1.pdf"}
    import os

    assert not any(os.path.exists(path) for path in old_files)
    assert os.path.exists(w["withdrawn_new"].file.path)

    run = RetentionRun.objects.get()
    assert run.summary == EXPECTED and summary.run_id == run.pk
    purged = AuditEvent.objects.get(action="personal_data.purged")
    assert purged.after["counts"] == EXPECTED
    assert AuditEvent.objects.filter(action="personal_data.erased").count() == 2
    deleted = AuditEvent.objects.filter(action="personal_data.documents_deleted")
    assert sorted(e.before["documents"][0] for e in deleted) == ["r1.pdf", "w1.pdf"]
    assert verify_chain() == []

    # a second run finds nothing more to do
    assert sum(personal_data.purge(now=now).counts.values()) == 0


@pytest.mark.django_db
def test_engagement_notes_are_erased_two_years_after_the_match_ended():
    from mutualise.ambassadors.models import Engagement, ProposedMatch
    from tests.ambassadors.factories import AmbassadorProfileFactory
    from tests.factories import OrganisationFactory

    period = days("engagement_notes")
    now = timezone.now()
    profile = AmbassadorProfileFactory()
    engagements = {}
    for label, offset in (("inside", MINUTE), ("outside", -MINUTE)):
        match = ProposedMatch.objects.create(
            organisation=OrganisationFactory(),
            profile=profile,
            status="ended",
            ended_at=now - period + offset,
        )
        engagements[label] = Engagement.objects.create(
            match=match,
            held_on=(now - period - dt.timedelta(days=30)).date(),
            notes=f"notes {label}",
            actions_agreed="actions",
        )
    summary = personal_data.purge(now=now)
    assert summary.counts["engagement_notes"] == 1
    assert Engagement.objects.get(pk=engagements["outside"].pk).notes == ""
    kept = Engagement.objects.get(pk=engagements["inside"].pk)
    assert kept.notes == "notes inside" and kept.actions_agreed == "actions"


@pytest.mark.django_db
def test_the_purge_command_prints_a_summary(aged_world):
    from mutualise.cli import app

    result = CliRunner().invoke(app, ["personal-data", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run, nothing changed" in result.output
    assert "Dry run: 9 records would be removed or anonymised." in result.output
    assert not RetentionRun.objects.exists()
    result = CliRunner().invoke(app, ["personal-data", "purge"])
    assert result.exit_code == 0, result.output
    assert "Done: 9 records removed or anonymised" in result.output
    assert RetentionRun.objects.count() == 1
