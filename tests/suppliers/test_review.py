"""Review queue and supplier pages: officers only; decisions saved, audited and remembered."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from mutualise.suppliers.models import (
    ReviewDecision,
    ReviewItem,
    SupplierMention,
    SupplierOrganisation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(tmp_path: Path, settings, monkeypatch) -> Path:
    monkeypatch.setenv("MUTUALISE_WAREHOUSE_DIR", str(tmp_path / "wh"))
    return tmp_path / "wh"


@pytest.fixture
def item() -> ReviewItem:
    SupplierMention.objects.create(
        ocid="ocds-b5fd17-1",
        award_id="1",
        supplier_name="Zenith Care",
        mention_key="k" * 32,
        supplier_class="UNKNOWN",
        matched_by="none",
    )
    return ReviewItem.objects.create(
        mention_key="k" * 32,
        supplier_name="Zenith Care",
        postcode="AB1 2CD",
        mentions=1,
        candidates=[
            {
                "organisation_identifier": "GB-COH-01234567",
                "organisation_name": "ZENITH TRAINING LIMITED",
                "match_probability": 0.8,
                "register": "companies_house",
                "evidence": {"name_normalised": "Jaro-Winkler >= 0.88", "postcode": "Exact match"},
            }
        ],
    )


def test_queue_needs_sign_in(client, item) -> None:
    response = client.get(reverse("suppliers:review-queue"))
    assert response.status_code == 302 and b"Zenith Care" not in response.content


def test_queue_is_forbidden_to_members(member_client, item) -> None:
    assert member_client.get(reverse("suppliers:review-queue")).status_code == 403
    assert (
        member_client.get(reverse("suppliers:review-item", args=[item.mention_key])).status_code
        == 403
    )


def test_queue_lists_names_for_officers(officer_client, item) -> None:
    response = officer_client.get(reverse("suppliers:review-queue"))
    assert response.status_code == 200 and b"Zenith Care" in response.content


def test_accept_links_the_mention_and_is_remembered(
    officer_client, item, warehouse: Path, django_capture_on_commit_callbacks
) -> None:
    url = reverse("suppliers:review-item", args=[item.mention_key])
    page = officer_client.get(url)
    assert b"ZENITH TRAINING LIMITED" in page.content and b"Exact match" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(url, {"decision": "accept"})
    assert response.status_code == 302
    decision = ReviewDecision.objects.get()
    assert decision.organisation_identifier == "GB-COH-01234567"
    mention = SupplierMention.objects.get()
    assert mention.organisation.identifier == "GB-COH-01234567" and mention.matched_by == "review"
    assert not ReviewItem.objects.exists()
    saved = pq.read_table(warehouse / "decisions" / "review_decisions.parquet").to_pylist()
    assert saved[0]["mention_key"] == item.mention_key and saved[0]["decision"] == "accept"


def test_choose_another_validates_the_identifier(officer_client, item) -> None:
    url = reverse("suppliers:review-item", args=[item.mention_key])
    response = officer_client.post(
        url, {"decision": "choose", "organisation_identifier": "GB-COH-12-AB"}
    )
    assert response.status_code == 200
    assert b"Error: Review Zenith Care" in response.content
    assert not ReviewDecision.objects.exists() and ReviewItem.objects.exists()
    response = officer_client.post(
        url, {"decision": "choose", "organisation_identifier": "gb-coh-4142000"}
    )
    assert response.status_code == 302
    assert ReviewDecision.objects.get().organisation_identifier == "GB-COH-04142000"


def test_supplier_page_shows_names_identifiers_and_awards(officer_client) -> None:
    organisation = SupplierOrganisation.objects.create(
        identifier="GB-COH-04142000",
        name="ACME LIMITED",
        supplier_class="SME",
        class_reason="Accounts say small.",
    )
    for index, (name, identifier) in enumerate(
        [("Acme Ltd", "GB-COH-4142000"), ("ACME LIMITED", "")]
    ):
        SupplierMention.objects.create(
            ocid=f"ocds-b5fd17-{index}",
            award_id="1",
            supplier_name=name,
            supplier_identifier=identifier,
            mention_key=str(index) * 32,
            organisation=organisation,
            supplier_class="SME",
            matched_by="identifier",
        )
    url = reverse("suppliers:detail", args=[organisation.identifier])
    content = officer_client.get(url).content.decode()
    assert "Acme Ltd" in content and "GB-COH-4142000" in content and "ocds-b5fd17-1" in content
    assert "Accounts say small." in content
