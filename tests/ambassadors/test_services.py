from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from mutualise.ambassadors import facts, services
from mutualise.ambassadors.models import (
    AmbassadorRequest,
    MatchRun,
    MatchStatus,
    PairConstraint,
    ProposedMatch,
)
from mutualise.ambassadors.services import AmbassadorError
from mutualise.core.models import AuditEvent, Notification
from mutualise.core.permissions import can_view_organisation_private
from tests.ambassadors.factories import AmbassadorProfileFactory
from tests.factories import (
    IdentifierFactory,
    JourneyFactory,
    OrganisationFactory,
    UserFactory,
    grant,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ambassador():
    return AmbassadorProfileFactory(user=UserFactory(username="amb"))


def proposed(officer, ambassador_profile=None) -> list[ProposedMatch]:
    run = services.run_matching(actor=officer)
    return services.confirm_run(run, actor=officer)


def accepted_match(officer, ambassador, journey) -> ProposedMatch:
    [match] = proposed(officer)
    return services.accept_match(match, actor=ambassador.user)


def test_run_and_confirm_proposes_the_ambassador(officer, ambassador, journey, settings):
    settings.MUTUALISE_SITE_URL = "http://testserver.example/"
    run = services.run_matching(actor=officer)
    assert run.status == MatchRun.Status.DRAFT
    assert run.summary["proposed"] == 1
    [pair] = run.result
    assert pair["organisation_id"] == journey.organisation_id
    assert pair["parts"]["sector"] == 3.0
    assert any("community health" in line for line in pair["explanation"])
    [match] = services.confirm_run(run, actor=officer)
    assert match.status == MatchStatus.PROPOSED
    assert match.score_parts == pair["parts"]
    [email] = Notification.objects.filter(user=ambassador.user)
    # An email's link must work from a mail client: absolute, on the configured site.
    assert "Accept or decline: http://testserver.example/ambassadors/" in email.body
    assert AuditEvent.objects.filter(action="ambassador.match_proposed").count() == 1
    run.refresh_from_db()
    assert run.status == MatchRun.Status.CONFIRMED
    # the group has a proposal now: it no longer needs matching
    assert not facts.groups_needing_ambassador().exists()


def test_only_officers_run_matching(member, ambassador, journey):
    with pytest.raises(PermissionDenied):
        services.run_matching(actor=member)


def test_pinned_forbidden_pair_names_the_constraint_and_stores_nothing(
    officer, ambassador, journey
):
    for rule in ("pin", "forbid"):
        services.set_pair_rule(journey.organisation, ambassador, rule, actor=officer)
    with pytest.raises(AmbassadorError) as caught:
        services.run_matching(actor=officer)
    assert "both pinned to and forbidden" in caught.value.problems[0]
    assert not MatchRun.objects.exists()


def test_pin_beyond_capacity_is_refused(officer, journey):
    full = AmbassadorProfileFactory(capacity=1)
    other = JourneyFactory(organisation=OrganisationFactory())
    services.set_pair_rule(journey.organisation, full, "pin", actor=officer)
    services.set_pair_rule(other.organisation, full, "pin", actor=officer)
    with pytest.raises(AmbassadorError) as caught:
        services.run_matching(actor=officer)
    assert "capacity cannot be met" in " ".join(caught.value.problems)


def test_pins_are_used_then_cleared_on_confirm(officer, ambassador, journey):
    services.set_pair_rule(journey.organisation, ambassador, "pin", actor=officer)
    run = services.run_matching(actor=officer)
    assert run.result[0]["pinned"] is True
    services.confirm_run(run, actor=officer)
    assert not PairConstraint.objects.filter(rule="pin").exists()


def test_conflicts_are_never_proposed(officer, journey):
    same_parent = AmbassadorProfileFactory(
        leads_organisation=OrganisationFactory(
            kind="mutual", parent_body=journey.organisation.parent_body
        )
    )
    run = services.run_matching(actor=officer)
    assert run.result == []
    declared = AmbassadorProfileFactory()
    services.declare_conflict(
        declared,
        journey.organisation,
        "competing_bid",
        "both bid for the council's community nursing",
        actor=officer,
    )
    run = services.run_matching(actor=officer)
    assert run.result == []
    assert same_parent.pk and declared.pk


def test_a_mutual_supplying_the_groups_parent_body_is_a_competing_bid(officer, journey):
    """Contract watch finds the conflict: no officer has to declare it."""
    from django.utils import timezone

    from mutualise.watch.models import WatchedContract

    parent = journey.organisation.parent_body
    IdentifierFactory(organisation=parent, scheme="GB-GOR", value="PB9001")
    mutual = OrganisationFactory(kind="mutual")
    supplier = AmbassadorProfileFactory(leads_organisation=mutual)
    WatchedContract.objects.create(
        ocid="ocds-b5fd17-competing",
        award_id="1",
        buyer_identifier="GB-GOR-PB9001",
        supplier_organisation=mutual,
        content_hash="x",
        loaded_at=timezone.now(),
    )
    run = services.run_matching(actor=officer)
    assert run.result == []
    from mutualise.ambassadors.facts import client_bodies

    assert client_bodies([mutual.pk]) == {mutual.pk: {parent.pk}}
    assert supplier.pk


def test_confirm_is_all_or_nothing(officer, journey, ambassador):
    second = JourneyFactory(organisation=OrganisationFactory())
    run = services.run_matching(actor=officer)
    assert len(run.result) == 2
    # Meanwhile the ambassador's capacity drops to one: the run cannot be confirmed.
    ambassador.capacity = 1
    ambassador.save()
    with pytest.raises(AmbassadorError) as caught:
        services.confirm_run(run, actor=officer)
    assert "capacity cannot be met" in " ".join(caught.value.problems)
    assert not ProposedMatch.objects.exists()
    run.refresh_from_db()
    assert run.status == MatchRun.Status.DRAFT
    assert second.pk


def test_a_new_run_supersedes_the_draft(officer, ambassador, journey):
    first = services.run_matching(actor=officer)
    services.run_matching(actor=officer)
    first.refresh_from_db()
    assert first.status == MatchRun.Status.SUPERSEDED
    with pytest.raises(AmbassadorError, match="no longer a draft"):
        services.confirm_run(first, actor=officer)


def test_accept_makes_the_ambassador_a_viewer_of_the_journey(officer, ambassador, journey, member):
    [match] = proposed(officer)
    assert not services.is_ambassador_to(ambassador.user, journey.organisation)
    assert not can_view_organisation_private(ambassador.user, journey.organisation_id)
    services.accept_match(match, actor=ambassador.user)
    assert services.is_ambassador_to(ambassador.user, journey.organisation)
    assert services.is_ambassador_to(ambassador.user, journey.organisation_id)
    assert can_view_organisation_private(ambassador.user, journey.organisation_id)
    assert Notification.objects.filter(user=member).exists()


def test_only_the_proposed_ambassador_answers(officer, ambassador, journey):
    [match] = proposed(officer)
    stranger = AmbassadorProfileFactory()
    with pytest.raises(PermissionDenied):
        services.accept_match(match, actor=stranger.user)
    with pytest.raises(PermissionDenied):
        services.decline_match(match, "no", actor=officer)


def test_decline_needs_a_reason(officer, ambassador, journey):
    [match] = proposed(officer)
    with pytest.raises(AmbassadorError, match="Enter why"):
        services.decline_match(match, "  ", actor=ambassador.user)
    declined = services.decline_match(match, "Too far to travel", actor=ambassador.user)
    assert declined.status == MatchStatus.DECLINED
    assert declined.decline_reason == "Too far to travel"
    # the group needs an ambassador again, and the next run may propose someone else
    assert facts.groups_needing_ambassador().filter(pk=journey.organisation_id).exists()


def test_accept_over_capacity_is_refused(officer, ambassador, journey):
    [match] = proposed(officer)
    ambassador.capacity = 0
    ambassador.save()
    with pytest.raises(AmbassadorError, match="capacity is 0"):
        services.accept_match(match, actor=ambassador.user)
    assert ProposedMatch.objects.get(pk=match.pk).status == MatchStatus.PROPOSED


def test_away_ambassadors_get_no_new_groups(officer, ambassador, journey):
    today = timezone.localdate()
    services.add_away_period(
        ambassador, today, today + timedelta(days=10), "holiday", actor=ambassador.user
    )
    run = services.run_matching(actor=officer)
    assert run.result == []
    assert any("away" in note for note in run.summary["notes"])


@pytest.mark.parametrize(
    ("starts", "ends", "proposed"),
    [
        (None, None, True),
        (-5, 30, True),  # inside the window
        (0, 0, True),  # the window is today only
        (7, None, False),  # not yet available
        (None, -1, False),  # availability ended yesterday
    ],
)
def test_availability_window_decides_who_gets_new_groups(
    officer, ambassador, journey, starts, ends, proposed
):
    today = timezone.localdate()
    changes = {
        "available_from": None if starts is None else today + timedelta(days=starts),
        "available_until": None if ends is None else today + timedelta(days=ends),
    }
    services.save_profile(ambassador.user, changes, actor=ambassador.user)
    run = services.run_matching(actor=officer)
    assert bool(run.result) is proposed
    if not proposed:
        assert any("availability dates" in note for note in run.summary["notes"])


def test_availability_window_must_not_end_before_it_starts(ambassador):
    from django.core.exceptions import ValidationError

    today = timezone.localdate()
    with pytest.raises(ValidationError):
        services.save_profile(
            ambassador.user,
            {"available_from": today, "available_until": today - timedelta(days=1)},
            actor=ambassador.user,
        )
    ambassador.refresh_from_db()
    assert ambassador.available_from is None


def test_engagement_follow_up_and_rating(officer, ambassador, journey, member):
    match = accepted_match(officer, ambassador, journey)
    today = timezone.localdate()
    with pytest.raises(AmbassadorError) as caught:
        services.log_engagement(
            match,
            actor=ambassador.user,
            held_on=today + timedelta(days=1),
            topics=["pensions"],
            actions_agreed="",
        )
    assert len(caught.value.problems) == 2
    engagement = services.log_engagement(
        match,
        actor=ambassador.user,
        held_on=today - timedelta(days=3),
        topics=["pensions"],
        actions_agreed="Send the pension admission checklist",
        follow_up_on=today - timedelta(days=1),
    )
    assert engagement.follow_up_overdue
    services.mark_follow_up_done(engagement, actor=ambassador.user)
    engagement.refresh_from_db()
    assert not engagement.follow_up_overdue
    rating = services.rate_engagement(engagement, 4, "Helpful", actor=member)
    assert rating.rating == 4
    again = services.rate_engagement(engagement, 5, "Very helpful", actor=member)
    assert again.pk == rating.pk and again.rating == 5
    with pytest.raises(PermissionDenied):
        services.rate_engagement(engagement, 5, actor=ambassador.user)
    with pytest.raises(AmbassadorError):
        services.rate_engagement(engagement, 6, actor=member)
    # the rating feeds the ambassador's past success with groups in this sector
    [amb_facts] = facts.ambassador_facts([ambassador], facts.load_rules(), today)
    assert amb_facts.past_ratings == {"health": (5.0, 1)}


def test_request_ambassador(member, staff_group):
    request = services.request_ambassador(staff_group, "Help with TUPE", actor=member)
    assert request.pk
    with pytest.raises(AmbassadorError, match="already asked"):
        services.request_ambassador(staff_group, "again", actor=member)
    outsider = grant(UserFactory(), "staff_group_member", OrganisationFactory())
    with pytest.raises(PermissionDenied):
        services.request_ambassador(staff_group, "x", actor=outsider)
    # the request's words are read as stated needs
    group = facts.build_problem().groups
    assert any("tupe" in g.needs for g in group)


def test_request_is_fulfilled_when_accepted(officer, ambassador, journey, member):
    services.request_ambassador(journey.organisation, "pensions", actor=member)
    accepted_match(officer, ambassador, journey)
    assert AmbassadorRequest.objects.get().fulfilled_at is not None


def test_waiting_too_long(officer, journey):
    rules = facts.load_rules()
    later = timezone.now() + timedelta(days=rules.waiting_too_long_days + 1)
    [waiting] = facts.waiting_groups(rules, now=later)
    assert waiting.too_long
    [waiting] = facts.waiting_groups(rules)
    assert not waiting.too_long


def test_followup_reminders_are_sent_once(officer, ambassador, journey, capsys):
    match = accepted_match(officer, ambassador, journey)
    today = timezone.localdate()
    services.log_engagement(
        match,
        actor=ambassador.user,
        held_on=today - timedelta(days=10),
        topics=["pensions"],
        actions_agreed="Call the pensions adviser",
        follow_up_on=today - timedelta(days=2),
    )
    services.log_engagement(
        match,
        actor=ambassador.user,
        held_on=today - timedelta(days=1),
        topics=["tupe"],
        actions_agreed="Not due yet",
        follow_up_on=today + timedelta(days=5),
    )
    before = Notification.objects.filter(user=ambassador.user).count()
    call_command("send_followup_reminders")
    call_command("send_followup_reminders")
    assert "Queued 0 follow-up reminders" in capsys.readouterr().out
    reminders = Notification.objects.filter(
        user=ambassador.user, subject__startswith="Follow-up due"
    )
    assert reminders.count() == 1
    assert Notification.objects.filter(user=ambassador.user).count() == before + 1
    assert services.send_followup_reminders(today + timedelta(days=10)) == 1  # the second one


def test_profile_validation(ambassador):
    with pytest.raises(AmbassadorError, match="both offered and not wanted"):
        services.save_profile(
            ambassador.user,
            {"topics_offered": ["pensions"], "excluded_topics": ["pensions"]},
            actor=ambassador.user,
        )
    other = AmbassadorProfileFactory()
    with pytest.raises(PermissionDenied):
        services.save_profile(other.user, {"capacity": 3}, actor=ambassador.user)
