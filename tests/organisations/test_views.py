"""Organisation pages through the Django test client."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from mutualise.core.models import AuditEvent
from mutualise.journeys import services as journey_services
from mutualise.organisations.models import Organisation
from tests.factories import (
    IdentifierFactory,
    JourneyFactory,
    OrganisationFactory,
    UserFactory,
    grant,
)

pytestmark = pytest.mark.django_db


def officer_only_urls(organisation: Organisation) -> list[str]:
    return [
        reverse("organisations:list"),
        reverse("organisations:edit", args=[organisation.pk]),
        reverse("organisations:activity", args=[organisation.pk]),
        reverse("organisations:add-identifier", args=[organisation.pk]),
        reverse("organisations:new-staff-group"),
        reverse("organisations:new-public-body"),
    ]


def test_anonymous_is_sent_to_sign_in(client, staff_group):
    for url in [
        reverse("organisations:detail", args=[staff_group.pk]),
        *officer_only_urls(staff_group),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("core:sign-in"))


def test_member_sees_own_organisation_but_not_officer_pages(member_client, staff_group):
    IdentifierFactory(organisation=staff_group, value="04142000")
    response = member_client.get(reverse("organisations:detail", args=[staff_group.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "04142000" in html
    assert "Remove" not in html and "Add an identifier" not in html
    for url in officer_only_urls(staff_group):
        assert member_client.get(url).status_code == 403, url


def test_member_cannot_see_another_groups_organisation(member_client):
    other = OrganisationFactory(name="Someone Else's Group")
    response = member_client.get(reverse("organisations:detail", args=[other.pk]))
    assert response.status_code in (403, 404)
    assert b"Someone Else" not in response.content


@pytest.mark.parametrize("role", ["ambassador", "assessor"])
def test_unlinked_ambassador_or_assessor_cannot_see(client, staff_group, role):
    client.force_login(grant(UserFactory(username=role), role))
    assert client.get(reverse("organisations:detail", args=[staff_group.pk])).status_code == 403


def test_leader_sees_own_mutual(client):
    mutual = OrganisationFactory(kind="mutual")
    client.force_login(grant(UserFactory(username="leader"), "mutual_leader", mutual))
    assert client.get(reverse("organisations:detail", args=[mutual.pk])).status_code == 200


def test_unknown_organisation_is_404(officer_client):
    assert officer_client.get("/organisations/999999/").status_code == 404


def test_list_filters_and_search(officer_client, public_body):
    OrganisationFactory(
        name="Bay Leisure Trust", sector="leisure", region="south-west", kind="mutual"
    )
    OrganisationFactory(name="Bay Health Team", sector="health", region="north-west")
    url = reverse("organisations:list")
    html = officer_client.get(url + "?q=bay").content.decode()
    assert "Bay Leisure Trust" in html and "Bay Health Team" in html
    html = officer_client.get(url + "?q=bay&sector=leisure").content.decode()
    assert "Bay Leisure Trust" in html and "Bay Health Team" not in html
    html = officer_client.get(url + "?kind=mutual").content.decode()
    assert "Bay Leisure Trust" in html and "Bay Health Team" not in html
    html = officer_client.get(url + "?region=north-west&kind=staff_group").content.decode()
    assert "Bay Health Team" in html and "Bay Leisure Trust" not in html
    html = officer_client.get(url + "?kind=alien").content.decode()
    assert "govuk-error-summary" in html


def test_detail_shows_identifiers_facts_and_the_verdict(officer_client, staff_group):
    staff_group.kind = "mutual"
    staff_group.left_public_sector = True
    staff_group.staff_board_seats, staff_group.board_seats = 3, 9
    staff_group.employee_trust_stake_percent = 25
    staff_group.save()
    IdentifierFactory(organisation=staff_group, scheme="GB-COH", value="04142000")
    IdentifierFactory(organisation=staff_group, scheme="GB-MPR", value="10008R")
    html = officer_client.get(
        reverse("organisations:detail", args=[staff_group.pk])
    ).content.decode()
    assert "Companies House (GB-COH)" in html and "04142000" in html
    assert "FCA Mutuals Public Register (GB-MPR)" in html and "10008R" in html
    assert "3 of 9 board seats" in html
    assert "Does this organisation count as a public service mutual?" in html
    assert "<strong>Yes</strong>" in html
    assert "uk-government-2011" in html
    assert "Spun out of the public sector" in html


def test_verdict_explains_a_no(officer_client, staff_group):
    html = officer_client.get(
        reverse("organisations:detail", args=[staff_group.pk])
    ).content.decode()
    assert "<strong>No</strong>" in html
    assert "No employee control recorded yet" in html


def test_add_identifier_pads_and_refuses_malformed_and_duplicates(officer_client, staff_group):
    url = reverse("organisations:add-identifier", args=[staff_group.pk])
    response = officer_client.post(url, {"scheme": "GB-COH", "value": "4142000"})
    assert response.status_code == 302
    assert staff_group.identifiers.get().value == "04142000"

    response = officer_client.post(url, {"scheme": "GB-COH", "value": "4142000"})
    assert response.status_code == 200
    assert b"already recorded for this organisation" in response.content

    response = officer_client.post(url, {"scheme": "GB-MPR", "value": "R10008"})
    html = response.content.decode()
    assert "govuk-error-summary" in html and "<title>Error: " in html
    assert "a society number followed by its letter suffix" in html
    assert staff_group.identifiers.count() == 1

    response = officer_client.post(url, {"scheme": "", "value": ""})
    assert (
        b"Select the register" in response.content and b"Enter the identifier" in response.content
    )


def test_remove_identifier_is_post_only(officer_client, staff_group):
    identifier = IdentifierFactory(organisation=staff_group)
    url = reverse("organisations:remove-identifier", args=[staff_group.pk, identifier.pk])
    assert officer_client.get(url).status_code == 405
    assert officer_client.post(url).status_code == 302
    assert not staff_group.identifiers.exists()


def test_identifier_of_another_organisation_cannot_be_removed_through_this_one(
    officer_client, staff_group
):
    foreign = IdentifierFactory()
    url = reverse("organisations:remove-identifier", args=[staff_group.pk, foreign.pk])
    assert officer_client.post(url).status_code == 404
    assert foreign.organisation.identifiers.exists()


def edit_data(organisation: Organisation, **changes: str) -> dict[str, str]:
    data = {
        "name": organisation.name,
        "kind": organisation.kind,
        "legal_form": organisation.legal_form,
        "parent_body": str(organisation.parent_body_id or ""),
        "sector": organisation.sector,
        "region": organisation.region,
        "delivers_in_england": "True",
        "delivers_public_services": "True",
    }
    data.update(changes)
    return data


def test_edit_employee_control_and_money(officer_client, staff_group):
    url = reverse("organisations:edit", args=[staff_group.pk])
    html = officer_client.get(url).content.decode()
    assert 'id="employee-control"' in html
    response = officer_client.post(
        url,
        edit_data(
            staff_group,
            staff_vote_share_percent="33.5",
            staff_board_seats="2",
            board_seats="6",
            annual_income="1,250,000.50",
            spun_out_on_0="1",
            spun_out_on_1="4",
            spun_out_on_2="2012",
            legal_form="cic_guarantee",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Organisation.objects.get(pk=staff_group.pk)
    assert str(saved.staff_vote_share_percent) == "33.50"
    assert saved.annual_income_pence == 125000050
    assert saved.spun_out_on.isoformat() == "2012-04-01"
    assert saved.legal_form == "cic_guarantee"
    event = AuditEvent.objects.get(action="organisation.updated")
    assert "staff_vote_share_percent" in event.after


def test_invalid_edit_shows_errors_and_saves_nothing(officer_client, staff_group):
    url = reverse("organisations:edit", args=[staff_group.pk])
    response = officer_client.post(
        url,
        edit_data(
            staff_group,
            name="Renamed",
            staff_board_seats="7",
            board_seats="3",
            annual_income="12.345",
            staff_vote_share_percent="101",
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "Staff board seats cannot be more than the number of board seats" in html
    assert "more than 2 decimal places" in html
    assert Organisation.objects.get(pk=staff_group.pk).name != "Renamed"
    assert not AuditEvent.objects.exists()


def test_officer_creates_a_staff_group_and_a_public_body(officer_client, public_body):
    response = officer_client.post(
        reverse("organisations:new-staff-group"),
        {
            "name": "Harbour Youth Service",
            "parent_body": str(public_body.pk),
            "sector": "youth-services",
            "region": "north-west",
        },
    )
    assert response.status_code == 302
    group = Organisation.objects.get(name="Harbour Youth Service")
    assert response["Location"] == reverse("journeys:detail", args=[group.journey.pk])
    assert group.journey.stage == "EXPLORE"

    response = officer_client.post(
        reverse("organisations:new-public-body"),
        {"name": "Harbour City Council", "public_body_type": "local-authority"},
    )
    assert response.status_code == 302
    assert Organisation.objects.get(name="Harbour City Council").kind == "public_body"

    response = officer_client.post(reverse("organisations:new-staff-group"), {"name": ""})
    assert b"Enter the name of the staff group" in response.content
    assert b"Select the public body the group works for" in response.content


def test_activity_shows_who_when_what_before_and_after(officer_client, officer, staff_group):
    journey = JourneyFactory(organisation=staff_group)
    journey_services.update_evidence(journey, {"senior_sponsor_name": "Ms Sponsor"}, actor=officer)
    journey_services.move_stage(journey, "OPTIONS_APPRAISAL", actor=officer)
    officer_client.post(
        reverse("organisations:add-identifier", args=[staff_group.pk]),
        {"scheme": "GB-COH", "value": "4142000"},
    )
    html = officer_client.get(
        reverse("organisations:activity", args=[staff_group.pk])
    ).content.decode()
    assert "Moved to a new stage" in html
    assert "Explore → Options appraisal" in html
    assert "Journey evidence recorded" in html
    assert "nothing → Ms Sponsor" in html
    assert "Identifier added" in html and "GB-COH-04142000" in html
    assert escape(officer.display_name) in html
    # newest first
    assert html.index("Identifier added") < html.index("Moved to a new stage")


def test_activity_is_for_officers_only(member_client, staff_group):
    url = reverse("organisations:activity", args=[staff_group.pk])
    assert member_client.get(url).status_code == 403


def test_csrf_is_enforced_on_identifier_forms(officer, staff_group):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    url = reverse("organisations:add-identifier", args=[staff_group.pk])
    assert client.post(url, {"scheme": "GB-COH", "value": "04142000"}).status_code == 403
    assert not staff_group.identifiers.exists()
