"""Supplier services: the programme register export, loading resolved links, review decisions.

State changes happen here only: each checks permission, validates, changes state in one
transaction and writes the audit event. Decisions are also written to the warehouse
(decisions/review_decisions.parquet) so that the next `mutualise resolve` remembers them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from django.core.exceptions import ValidationError
from django.db import transaction

from mutualise.core import audit
from mutualise.core.nul import without_nul
from mutualise.core.permissions import require_programme_staff
from mutualise.organisations.identifiers import IdentifierError, split_prefixed, validate
from mutualise.organisations.models import Identifier, Organisation
from mutualise.pipeline.registers.programme import (
    ProgrammeOrganisation,
    canonical_identifier,
    write_programme_register,
)
from mutualise.pipeline.warehouse import Warehouse
from mutualise.suppliers.models import (
    ReviewDecision,
    ReviewItem,
    SupplierMention,
    SupplierOrganisation,
)

DECISIONS_SCHEMA = pa.schema(
    [
        ("mention_key", pa.string()),
        ("decision", pa.string()),
        ("organisation_identifier", pa.string()),
        ("decided_by", pa.string()),
        ("decided_at", pa.timestamp("us", tz="UTC")),
    ]
)


def programme_organisations() -> list[ProgrammeOrganisation]:
    identifiers: dict[int, list[tuple[str, str]]] = {}
    for organisation_id, scheme, value in Identifier.objects.values_list(
        "organisation_id", "scheme", "value"
    ):
        identifiers.setdefault(organisation_id, []).append((scheme, value))
    return [
        ProgrammeOrganisation(
            org.reference or f"id-{org.pk}",
            org.name,
            org.kind,
            org.legal_form or "",
            identifiers.get(org.pk, []),
        )
        for org in Organisation.objects.order_by("pk")
    ]


def export_programme_register(warehouse_dir: Path | str | None = None) -> tuple[Path, int]:
    """Write the programme's organisations to registers/programme.parquet (read-only on the DB)."""
    organisations = programme_organisations()
    return write_programme_register(organisations, warehouse_dir), len(organisations)


def _programme_by_identifier() -> dict[str, int]:
    result = {}
    for org in programme_organisations():
        identifiers = [(s.upper(), v) for s, v in org.identifiers]
        canonical = canonical_identifier(org.reference, identifiers)
        pk = (
            Organisation.objects.filter(reference=org.reference)
            .values_list("pk", flat=True)
            .first()
        )
        if pk:
            result[canonical] = pk
    return result


def load_supplier_links(warehouse_dir: Path | str | None = None) -> dict[str, int]:
    """Replace the loaded links with the warehouse's supplier_links and review_queue (idempotent)."""
    from mutualise.pipeline.resolve import read_table

    links = without_nul(read_table("supplier_links", warehouse_dir)).to_pylist()
    queue = without_nul(read_table("review_queue", warehouse_dir)).to_pylist()
    programme = _programme_by_identifier()
    organisations: dict[str, dict[str, Any]] = {}
    for row in links:
        identifier = row["organisation_identifier"]
        if identifier and identifier not in organisations:
            organisations[identifier] = {
                "name": (row["organisation_name"] or row["supplier_name"] or identifier)[:300],
                "supplier_class": row["supplier_class"],
                "class_reason": row["class_reason"] or "",
            }
    decided = set(ReviewDecision.objects.values_list("mention_key", flat=True))
    items: dict[str, dict[str, Any]] = {}
    for row in queue:
        if row["mention_key"] in decided:
            continue
        item = items.setdefault(
            row["mention_key"],
            {
                "supplier_name": (row["supplier_name"] or "")[:500],
                "supplier_identifier": row["supplier_identifier"] or "",
                "postcode": row["postcode"] or "",
                "address_line": (row["address_line"] or "")[:300],
                "mentions": row["mentions"],
                "example_ocid": row["example_ocid"] or "",
                "candidates": [],
            },
        )
        item["candidates"].append(
            {
                "organisation_identifier": row["organisation_identifier"],
                "organisation_name": row["organisation_name"],
                "match_probability": row["match_probability"],
                "register": row["register"],
                "evidence": orjson.loads(row["evidence"]) if row["evidence"] else {},
            }
        )
    with transaction.atomic():
        SupplierMention.objects.all().delete()
        ReviewItem.objects.all().delete()
        SupplierOrganisation.objects.exclude(identifier__in=organisations).delete()
        existing = {o.identifier: o for o in SupplierOrganisation.objects.all()}
        changed, created = [], []
        for identifier, values in organisations.items():
            org = existing.get(identifier)
            if org is None:
                created.append(
                    SupplierOrganisation(
                        identifier=identifier,
                        programme_organisation_id=programme.get(identifier),
                        **values,
                    )
                )
            else:
                for key, value in values.items():
                    setattr(org, key, value)
                org.programme_organisation_id = programme.get(identifier)
                changed.append(org)
        SupplierOrganisation.objects.bulk_create(created, batch_size=2000)
        SupplierOrganisation.objects.bulk_update(
            changed,
            ["name", "supplier_class", "class_reason", "programme_organisation"],
            batch_size=2000,
        )
        ids = dict(SupplierOrganisation.objects.values_list("identifier", "pk"))
        SupplierMention.objects.bulk_create(
            [
                SupplierMention(
                    ocid=row["ocid"],
                    award_id=row["award_id"] or "",
                    supplier_party_id=row["supplier_party_id"] or "",
                    position=row["position"] or 0,
                    supplier_name=(row["supplier_name"] or "")[:500],
                    supplier_identifier=row["supplier_identifier"] or "",
                    mention_key=row["mention_key"],
                    organisation_id=ids.get(row["organisation_identifier"]),
                    supplier_class=row["supplier_class"],
                    class_reason=row["class_reason"] or "",
                    match_probability=row["match_probability"],
                    matched_by=row["matched_by"],
                    evidence=orjson.loads(row["evidence"]) if row["evidence"] else {},
                )
                for row in links
            ],
            batch_size=5000,
        )
        ReviewItem.objects.bulk_create(
            [ReviewItem(mention_key=key, **values) for key, values in items.items()]
        )
    return {"organisations": len(organisations), "mentions": len(links), "review_items": len(items)}


def write_decisions(warehouse_dir: Path | str | None = None) -> Path:
    """Every decision (latest per name wins in resolve) → decisions/review_decisions.parquet."""
    rows = ReviewDecision.objects.select_related("decided_by").order_by("decided_at", "id")
    table = pa.table(
        {
            "mention_key": [d.mention_key for d in rows],
            "decision": [d.decision for d in rows],
            "organisation_identifier": [d.organisation_identifier for d in rows],
            "decided_by": [d.decided_by.get_username() for d in rows],
            "decided_at": [d.decided_at for d in rows],
        },
        schema=DECISIONS_SCHEMA,
    )
    target = Warehouse(warehouse_dir).root / "decisions" / "review_decisions.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".parquet.tmp")
    pq.write_table(table, temporary)
    temporary.replace(target)
    return target


def decide_review(
    user: Any,
    item: ReviewItem,
    decision: str,
    organisation_identifier: str = "",
    warehouse_dir: Path | str | None = None,
) -> ReviewDecision:
    """Accept the best candidate, reject all, or choose another organisation by identifier."""
    require_programme_staff(user)
    if decision not in ReviewDecision.Decision.values:
        raise ValidationError({"decision": "Select what to do with this supplier"})
    chosen = ""
    if decision == ReviewDecision.Decision.ACCEPT:
        candidates = [c["organisation_identifier"] for c in item.candidates]
        chosen = organisation_identifier or (candidates[0] if candidates else "")
        if chosen not in candidates:
            raise ValidationError(
                {"organisation_identifier": "Choose one of the suggested organisations"}
            )
    elif decision == ReviewDecision.Decision.CHOOSE:
        text = (organisation_identifier or "").strip().upper()
        if not text:
            raise ValidationError(
                {
                    "organisation_identifier": "Enter the organisation's identifier, like GB-COH-01234567"
                }
            )
        try:
            scheme, value = split_prefixed(text)
            chosen = f"{scheme}-{validate(scheme, value)}"
        except IdentifierError as exc:
            raise ValidationError({"organisation_identifier": str(exc)}) from exc
    with transaction.atomic():
        locked = ReviewItem.objects.select_for_update().filter(pk=item.pk).first()
        if locked is None:
            raise ValidationError({"decision": "Someone has already decided about this supplier"})
        record = ReviewDecision.objects.create(
            mention_key=item.mention_key,
            supplier_name=item.supplier_name,
            decision=decision,
            organisation_identifier=chosen,
            decided_by=user,
        )
        organisation = None
        if chosen:
            name = next(
                (
                    c["organisation_name"]
                    for c in item.candidates
                    if c["organisation_identifier"] == chosen
                ),
                "",
            )
            organisation, _ = SupplierOrganisation.objects.get_or_create(
                identifier=chosen,
                defaults={
                    "name": name or item.supplier_name,
                    "supplier_class": "UNKNOWN",
                    "class_reason": "Chosen by a programme officer; classified on the next resolve.",
                },
            )
        SupplierMention.objects.filter(mention_key=item.mention_key).update(
            organisation=organisation, matched_by="review" if chosen else "none"
        )
        locked.delete()
        audit.record(
            actor=user,
            action=f"supplier_review.{decision}",
            obj=record,
            after={"supplier_name": item.supplier_name, "organisation_identifier": chosen},
        )
        transaction.on_commit(lambda: write_decisions(warehouse_dir))
    return record
