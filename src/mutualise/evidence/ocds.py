"""The programme's own contracts (those held by its mutuals and staff groups) as OCDS 1.1.

One release per contract award, built from contract watch's copy of the award notice: the
buyer and supplier parties, the award's value and contract period. Validated in the tests
against the release package schema shipped in pipeline/schema/standard.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.utils import timezone

PUBLISHER = {"name": "Mutualise: public service mutuals programme"}


def _datetime(day: date | None) -> str | None:
    if day is None:
        return None
    return datetime.combine(day, time(0, 0), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _party(identifier: str, name: str, role: str, fallback: str) -> dict[str, Any]:
    party: dict[str, Any] = {
        "id": identifier or fallback,
        "name": name or "Not published",
        "roles": [role],
    }
    if identifier and identifier.count("-") >= 2:
        scheme, _, value = identifier.rpartition("-")
        party["identifier"] = {"scheme": scheme, "id": value, "legalName": name or value}
    return party


def release(contract: Any, published: str) -> dict[str, Any]:
    buyer = _party(
        contract.buyer_identifier,
        contract.buyer_name,
        "buyer",
        f"buyer-{contract.buyer_key or contract.pk}",
    )
    supplier = _party(
        contract.supplier_identifier, contract.supplier_name, "supplier", f"supplier-{contract.pk}"
    )
    if supplier["id"] == buyer["id"]:
        supplier["id"] = f"{supplier['id']}-supplier"
    award: dict[str, Any] = {
        "id": contract.award_id,
        "status": "active",
        "suppliers": [{"id": supplier["id"], "name": supplier["name"]}],
    }
    if contract.title:
        award["title"] = contract.title
    if contract.award_date:
        award["date"] = _datetime(contract.award_date)
    if contract.value_pence is not None:
        pounds, pence = divmod(int(contract.value_pence), 100)
        award["value"] = {"amount": pounds + pence / 100 if pence else pounds, "currency": "GBP"}
    period = {
        k: v
        for k, v in (
            ("startDate", _datetime(contract.start_date)),
            ("endDate", _datetime(contract.end_date)),
        )
        if v
    }
    if period:
        award["contractPeriod"] = period
    tender: dict[str, Any] = {"id": f"{contract.ocid}-tender", "status": "complete"}
    if contract.cpv:
        tender["classification"] = {"scheme": "CPV", "id": contract.cpv}
    return {
        "ocid": contract.ocid,
        "id": f"{contract.ocid}-{contract.award_id}-mutualise",
        "date": _datetime(contract.award_date) or published,
        "tag": ["award"],
        "initiationType": "tender",
        "language": "en",
        "parties": [buyer, supplier],
        "buyer": {"id": buyer["id"], "name": buyer["name"]},
        "tender": tender,
        "awards": [award],
    }


def programme_release_package(base_url: str = "https://example.invalid/") -> dict[str, Any]:
    from mutualise.watch.models import WatchedContract

    contracts = WatchedContract.objects.filter(
        supplier_organisation__kind__in=["mutual", "staff_group"]
    ).order_by("ocid", "award_id")
    latest = contracts.order_by("-loaded_at").values_list("loaded_at", flat=True).first()
    published = (
        (latest or timezone.now())
        .replace(microsecond=0)
        .astimezone(UTC)
        .isoformat()
        .replace("+00:00", "Z")
    )
    return {
        "uri": base_url.rstrip("/") + "/evidence/ocds/programme-contracts.json",
        "version": "1.1",
        "publishedDate": published,
        "publisher": PUBLISHER,
        "license": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "releases": [release(c, published) for c in contracts],
    }
