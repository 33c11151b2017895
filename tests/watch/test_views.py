from datetime import date

import pytest

from mutualise.watch.models import ReservationCheck, WatchedContract


def test_reservation_form_checks_and_keeps_the_answer(officer_client):
    response = officer_client.post(
        "/watch/reservation-check/",
        {
            "cpv_codes": "85311000, 85312000",
            "maximum_term_months": "36",
            "award_date": "2024-06-01",
            "procedure": "open",
        },
    )
    assert response.status_code == 200
    assert b"Eligible" in response.content
    assert ReservationCheck.objects.get().eligible


def test_reservation_form_errors(officer_client):
    response = officer_client.post(
        "/watch/reservation-check/",
        {"cpv_codes": "853", "maximum_term_months": "-1", "award_date": "not a date"},
    )
    assert response.status_code == 200
    assert b"Error: " in response.content and ReservationCheck.objects.count() == 0


@pytest.mark.parametrize("url", ["/watch/", "/watch/missed-reservations/"])
def test_officer_pages(officer_client, url):
    assert officer_client.get(url).status_code == 200


def test_members_cannot_see_the_radar_or_other_timelines(member_client, staff_group, public_body):
    assert member_client.get("/watch/missed-reservations/").status_code == 403
    assert member_client.get(f"/watch/organisations/{public_body.pk}/").status_code == 403
    assert member_client.get(f"/watch/organisations/{staff_group.pk}/").status_code == 200


def test_timeline_shows_contract(member_client, staff_group):
    from django.utils import timezone

    WatchedContract.objects.create(
        ocid="ocds-z",
        award_id="1",
        title="Day services",
        cpv="85312000",
        buyer_name="A Council",
        supplier_organisation=staff_group,
        supplier_class="PUBLIC_SERVICE_MUTUAL",
        end_date=date.today().replace(year=date.today().year + 1),
        value_pence=123_400,
        content_hash="x",
        loaded_at=timezone.now(),
    )
    response = member_client.get(f"/watch/organisations/{staff_group.pk}/")
    assert b"Day services" in response.content and b"\xc2\xa31,234" in response.content
