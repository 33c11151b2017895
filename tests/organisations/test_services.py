"""organisations.services: identifiers, facts, new staff groups and public bodies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mutualise.core.models import AuditEvent
from mutualise.journeys.models import Journey
from mutualise.organisations import services
from mutualise.organisations.models import Identifier, Organisation
from tests.factories import IdentifierFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def test_identifier_is_normalised_stored_and_audited(staff_group, officer):
    identifier = services.add_identifier(staff_group, "GB-COH", "4142000", actor=officer)
    assert identifier.prefixed == "GB-COH-04142000"
    event = AuditEvent.objects.get(action="organisation.identifier_added")
    assert event.after == {"identifier": "GB-COH-04142000"}
    assert event.organisation_id == staff_group.pk


def test_malformed_identifier_is_refused_with_the_expected_format(staff_group, officer):
    with pytest.raises(ValidationError) as caught:
        services.add_identifier(staff_group, "GB-COH", "123456789", actor=officer)
    assert "8 digits" in caught.value.message_dict["value"][0]
    assert not Identifier.objects.exists()
    assert not AuditEvent.objects.exists()


def test_duplicate_identifier_is_refused_naming_the_holder(staff_group, officer):
    other = OrganisationFactory(name="Other Mutual")
    IdentifierFactory(organisation=other, scheme="GB-COH", value="04142000")
    with pytest.raises(ValidationError) as caught:
        services.add_identifier(staff_group, "GB-COH", "4142000", actor=officer)
    assert "Other Mutual" in caught.value.message_dict["value"][0]
    services.add_identifier(staff_group, "GB-MPR", "10008R", actor=officer)
    with pytest.raises(ValidationError, match="this organisation"):
        services.add_identifier(staff_group, "GB-MPR", "10008r", actor=officer)


def test_remove_identifier(staff_group, officer):
    identifier = IdentifierFactory(organisation=staff_group, value="04142000")
    services.remove_identifier(identifier, actor=officer)
    assert not staff_group.identifiers.exists()
    event = AuditEvent.objects.get(action="organisation.identifier_removed")
    assert event.before == {"identifier": "GB-COH-04142000"}


def test_only_officers_change_organisations(staff_group, member):
    with pytest.raises(PermissionDenied):
        services.add_identifier(staff_group, "GB-COH", "04142000", actor=member)
    with pytest.raises(PermissionDenied):
        services.update_organisation(staff_group, {"name": "Mine now"}, actor=member)
    with pytest.raises(PermissionDenied):
        services.create_staff_group(actor=member, name="New", parent_body=None)


def test_update_records_before_and_after(staff_group, officer):
    services.update_organisation(
        staff_group,
        {"staff_vote_share_percent": Decimal("40"), "staff_board_seats": 3, "board_seats": 9},
        actor=officer,
    )
    saved = Organisation.objects.get(pk=staff_group.pk)
    assert saved.staff_vote_share_percent == Decimal("40")
    event = AuditEvent.objects.get(action="organisation.updated")
    assert event.before == {
        "staff_vote_share_percent": None,
        "staff_board_seats": None,
        "board_seats": None,
    }
    assert event.after["board_seats"] == 9


def test_invalid_update_saves_nothing(staff_group, officer):
    with pytest.raises(ValidationError) as caught:
        services.update_organisation(
            staff_group,
            {"name": "Renamed", "staff_board_seats": 5, "board_seats": 3},
            actor=officer,
        )
    assert "staff_board_seats" in caught.value.message_dict
    assert Organisation.objects.get(pk=staff_group.pk).name == staff_group.name
    with pytest.raises(ValidationError):
        services.update_organisation(
            staff_group, {"staff_vote_share_percent": Decimal("120")}, actor=officer
        )
    assert not AuditEvent.objects.exists()


def test_unchanged_update_writes_no_event(staff_group, officer):
    services.update_organisation(staff_group, {"name": staff_group.name}, actor=officer)
    assert not AuditEvent.objects.exists()


def test_unknown_fields_are_refused(staff_group, officer):
    with pytest.raises(ValueError):
        services.update_organisation(staff_group, {"reference": "x"}, actor=officer)


def test_new_staff_group_starts_its_journey_at_explore(public_body, officer):
    group = services.create_staff_group(
        actor=officer,
        name="  Seaside Libraries  ",
        parent_body=public_body,
        sector="libraries-culture",
        region="south-west",
    )
    assert group.name == "Seaside Libraries"
    assert group.kind == "staff_group"
    journey = Journey.objects.get(organisation=group)
    assert journey.stage == "EXPLORE" and journey.stage_entered_at is not None
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "organisation.created",
        "journey.started",
    }


def test_new_staff_group_needs_a_public_body_parent(staff_group, officer):
    with pytest.raises(ValidationError):
        services.create_staff_group(actor=officer, name="X", parent_body=staff_group)
    with pytest.raises(ValidationError):
        services.create_staff_group(actor=officer, name="Bad", parent_body=None, sector="nope")
    assert not Organisation.objects.filter(name__in=["X", "Bad"]).exists()


def test_new_public_body(officer):
    body = services.create_public_body(
        actor=officer, name="Hilltown NHS Trust", public_body_type="nhs", region="london"
    )
    assert body.kind == "public_body" and body.legal_form == "public_body"
    with pytest.raises(ValidationError):
        services.create_public_body(actor=officer, name="Y", public_body_type="martian")
