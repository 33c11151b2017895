"""The edge: compiled release JSON → one typed, nested Parquet row per ocid.

This is the only place compiled JSON is parsed for analytics (DESIGN.md: parse at the edge, never
pass JSON strings through the transforms). Each field the tables need gets a fixed type here:
strings stay strings, amounts become doubles (plus exact integer pence), dates become UTC
timestamps, flags become booleans; anything of the wrong shape becomes null instead of failing.
Relations that need a "first match" (a lot's CPV codes from the items that point at it, a
supplier's position in its award) are decided here, so both engines see the same answer.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
import pyarrow as pa

from mutualise.pipeline.dates import parse_micros

TS = pa.timestamp("us", tz="UTC")

VALUE = pa.struct(
    [("amount", pa.float64()), ("amount_pence", pa.int64()), ("currency", pa.string())]
)
PERIOD = pa.struct(
    [
        ("start_date", TS),
        ("end_date", TS),
        ("max_extent_date", TS),
        ("duration_in_days", pa.int64()),
        ("duration_in_months", pa.int64()),
    ]
)
CLASSIFICATION = pa.struct(
    [("scheme", pa.string()), ("id", pa.string()), ("description", pa.string())]
)
IDENTIFIER = pa.struct([("scheme", pa.string()), ("id", pa.string()), ("legal_name", pa.string())])
SUITABILITY = pa.struct([("sme", pa.bool_()), ("vcse", pa.bool_())])
AMENDMENT = pa.struct(
    [
        ("id", pa.string()),
        ("date", TS),
        ("description", pa.string()),
        ("rationale", pa.string()),
        ("position", pa.int64()),
    ]
)
PARTY = pa.struct(
    [
        ("id", pa.string()),
        ("name", pa.string()),
        ("roles", pa.list_(pa.string())),
        ("identifier", IDENTIFIER),
        ("additional_identifiers", pa.list_(IDENTIFIER)),
        ("street_address", pa.string()),
        ("locality", pa.string()),
        ("region", pa.string()),
        ("postal_code", pa.string()),
        ("country_name", pa.string()),
        ("scale", pa.string()),
        ("vcse", pa.bool_()),
        ("public_service_mission_organization", pa.bool_()),
    ]
)
LOT = pa.struct(
    [
        ("id", pa.string()),
        ("title", pa.string()),
        ("description", pa.string()),
        ("status", pa.string()),
        ("classification", CLASSIFICATION),
        ("additional_classifications", pa.list_(CLASSIFICATION)),
        ("suitability", SUITABILITY),
        ("value", VALUE),
        ("contract_period", PERIOD),
        ("has_renewal", pa.bool_()),
        ("renewal_description", pa.string()),
        ("renewal_max_extent_date", TS),
        ("reserved_participation", pa.list_(pa.string())),
        ("position", pa.int64()),
    ]
)
SUPPLIER = pa.struct([("id", pa.string()), ("name", pa.string()), ("position", pa.int64())])
AWARD = pa.struct(
    [
        ("id", pa.string()),
        ("title", pa.string()),
        ("description", pa.string()),
        ("status", pa.string()),
        ("date", TS),
        ("value", VALUE),
        ("contract_period", PERIOD),
        ("related_lots", pa.list_(pa.string())),
        ("suppliers", pa.list_(SUPPLIER)),
        ("amendments", pa.list_(AMENDMENT)),
        ("position", pa.int64()),
    ]
)
CONTRACT = pa.struct(
    [
        ("id", pa.string()),
        ("award_id", pa.string()),
        ("title", pa.string()),
        ("status", pa.string()),
        ("period", PERIOD),
        ("value", VALUE),
        ("date_signed", TS),
        ("amendments", pa.list_(AMENDMENT)),
        ("position", pa.int64()),
    ]
)
TENDER = pa.struct(
    [
        ("id", pa.string()),
        ("title", pa.string()),
        ("description", pa.string()),
        ("status", pa.string()),
        ("main_procurement_category", pa.string()),
        ("procurement_method", pa.string()),
        ("procurement_method_details", pa.string()),
        ("classification", CLASSIFICATION),
        ("value", VALUE),
        ("tender_period", PERIOD),
        ("contract_period", PERIOD),
        ("suitability", SUITABILITY),
        ("reserved_participation", pa.list_(pa.string())),
        ("lots", pa.list_(LOT)),
        ("amendments", pa.list_(AMENDMENT)),
    ]
)
TYPED_SCHEMA = pa.schema(
    [
        ("ocid", pa.string()),
        ("compiled_release_id", pa.string()),
        ("compiled_date", TS),
        ("release_ids", pa.list_(pa.string())),
        ("release_count", pa.int64()),
        ("sources", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string())),
        ("first_release_date", TS),
        ("last_release_date", TS),
        ("buyer_id", pa.string()),
        ("buyer_name", pa.string()),
        ("parties", pa.list_(PARTY)),
        ("tender", TENDER),
        ("awards", pa.list_(AWARD)),
        ("contracts", pa.list_(CONTRACT)),
    ]
)


# -- coercion ------------------------------------------------------------------------------------
def text(value: Any) -> str | None:
    """A string field; numbers (such as integer ids in old Contracts Finder data) become text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def whole_number(value: Any) -> int | None:
    number = decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def decimal(value: Any) -> Decimal | None:
    """A number as published; also "25 000" and "1 000,50" written as strings."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
    elif isinstance(value, str):
        cleaned = value.replace(" ", "").replace("\u00a0", "")
        if "," in cleaned and "." not in cleaned:
            cleaned = (
                cleaned.replace(",", ".")
                if len(cleaned.rsplit(",", 1)[1]) != 3
                else cleaned.replace(",", "")
            )
        cleaned = cleaned.replace(",", "")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objs(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _texts(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return None
    return [item for item in (text(v) for v in value) if item is not None]


# -- pieces --------------------------------------------------------------------------------------
def value_of(raw: Any) -> dict[str, Any] | None:
    raw = _obj(raw)
    if not raw:
        return None
    amount = decimal(raw.get("amount"))
    return {
        "amount": float(amount) if amount is not None else None,
        "amount_pence": int((amount * 100).to_integral_value()) if amount is not None else None,
        "currency": text(raw.get("currency")),
    }


def period_of(raw: Any) -> dict[str, Any] | None:
    raw = _obj(raw)
    if not raw:
        return None
    return {
        "start_date": parse_micros(raw.get("startDate")),
        "end_date": parse_micros(raw.get("endDate")),
        "max_extent_date": parse_micros(raw.get("maxExtentDate")),
        "duration_in_days": whole_number(raw.get("durationInDays")),
        "duration_in_months": whole_number(raw.get("durationInMonths")),
    }


def classification_of(raw: Any) -> dict[str, Any] | None:
    raw = _obj(raw)
    if not raw:
        return None
    return {
        "scheme": text(raw.get("scheme")),
        "id": text(raw.get("id")),
        "description": text(raw.get("description")),
    }


def identifier_of(raw: Any) -> dict[str, Any] | None:
    raw = _obj(raw)
    if not raw:
        return None
    return {
        "scheme": text(raw.get("scheme")),
        "id": text(raw.get("id")),
        "legal_name": text(raw.get("legalName")),
    }


def suitability_of(raw: Any) -> dict[str, Any] | None:
    raw = _obj(raw)
    if not raw:
        return None
    return {"sme": flag(raw.get("sme")), "vcse": flag(raw.get("vcse"))}


def amendments_of(raw: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": text(item.get("id")),
            "date": parse_micros(item.get("date")),
            "description": text(item.get("description")),
            "rationale": text(item.get("rationale")),
            "position": position,
        }
        for position, item in enumerate(_objs(raw))
    ]


def party_of(raw: dict[str, Any]) -> dict[str, Any]:
    address = _obj(raw.get("address"))
    details = _obj(raw.get("details"))
    return {
        "id": text(raw.get("id")),
        "name": text(raw.get("name")),
        "roles": _texts(raw.get("roles")),
        "identifier": identifier_of(raw.get("identifier")),
        "additional_identifiers": [
            identifier_of(item) for item in _objs(raw.get("additionalIdentifiers"))
        ],
        "street_address": text(address.get("streetAddress")),
        "locality": text(address.get("locality")),
        "region": text(address.get("region")),
        "postal_code": text(address.get("postalCode")),
        "country_name": text(address.get("countryName")),
        "scale": text(details.get("scale")),
        "vcse": flag(details.get("vcse")),
        "public_service_mission_organization": flag(
            details.get("publicServiceMissionOrganization")
        ),
    }


def _reserved(raw: Any) -> list[str] | None:
    return _texts(_obj(_obj(raw).get("otherRequirements")).get("reservedParticipation"))


def _lot_classifications(tender: dict[str, Any]) -> dict[str, tuple[Any, list[Any]]]:
    """Each lot's CPV codes: the first item pointing at it gives the main one, all give extras."""
    found: dict[str, tuple[Any, list[Any]]] = {}
    for item in _objs(tender.get("items")):
        lot = text(item.get("relatedLot"))
        if lot is None:
            continue
        main, extra = found.get(lot, (None, []))
        if main is None:
            main = classification_of(item.get("classification"))
        extra = extra + [classification_of(c) for c in _objs(item.get("additionalClassifications"))]
        found[lot] = (main, extra)
    return found


def lot_of(
    raw: dict[str, Any], position: int, tender: dict[str, Any], classes: dict
) -> dict[str, Any]:
    lot_id = text(raw.get("id"))
    main, extra = classes.get(lot_id or "", (None, []))
    renewal = _obj(raw.get("renewal"))
    renewal_period = _obj(renewal.get("period"))
    return {
        "id": lot_id,
        "title": text(raw.get("title")),
        "description": text(raw.get("description")),
        "status": text(raw.get("status")),
        "classification": main or classification_of(raw.get("classification")),
        "additional_classifications": extra,
        "suitability": suitability_of(raw.get("suitability")),
        "value": value_of(raw.get("value")),
        "contract_period": period_of(raw.get("contractPeriod")),
        "has_renewal": flag(raw.get("hasRenewal")),
        "renewal_description": text(renewal.get("description")),
        "renewal_max_extent_date": parse_micros(renewal_period.get("maxExtentDate")),
        "reserved_participation": _reserved(raw),
        "position": position,
    }


def tender_of(raw: Any) -> dict[str, Any] | None:
    tender = _obj(raw)
    if not tender:
        return None
    classes = _lot_classifications(tender)
    return {
        "id": text(tender.get("id")),
        "title": text(tender.get("title")),
        "description": text(tender.get("description")),
        "status": text(tender.get("status")),
        "main_procurement_category": text(tender.get("mainProcurementCategory")),
        "procurement_method": text(tender.get("procurementMethod")),
        "procurement_method_details": text(tender.get("procurementMethodDetails")),
        "classification": classification_of(tender.get("classification")),
        "value": value_of(tender.get("value")),
        "tender_period": period_of(tender.get("tenderPeriod")),
        "contract_period": period_of(tender.get("contractPeriod")),
        "suitability": suitability_of(tender.get("suitability")),
        "reserved_participation": _reserved(tender),
        "lots": [
            lot_of(lot, i, tender, classes) for i, lot in enumerate(_objs(tender.get("lots")))
        ],
        "amendments": amendments_of(tender.get("amendments")),
    }


def award_of(raw: dict[str, Any], position: int) -> dict[str, Any]:
    return {
        "id": text(raw.get("id")),
        "title": text(raw.get("title")),
        "description": text(raw.get("description")),
        "status": text(raw.get("status")),
        "date": parse_micros(raw.get("date")),
        "value": value_of(raw.get("value")),
        "contract_period": period_of(raw.get("contractPeriod")),
        "related_lots": _texts(raw.get("relatedLots")),
        "suppliers": [
            {"id": text(s.get("id")), "name": text(s.get("name")), "position": i}
            for i, s in enumerate(_objs(raw.get("suppliers")))
        ],
        "amendments": amendments_of(raw.get("amendments")),
        "position": position,
    }


def contract_of(raw: dict[str, Any], position: int) -> dict[str, Any]:
    return {
        "id": text(raw.get("id")),
        "award_id": text(raw.get("awardID")),
        "title": text(raw.get("title")),
        "status": text(raw.get("status")),
        "period": period_of(raw.get("period")),
        "value": value_of(raw.get("value")),
        "date_signed": parse_micros(raw.get("dateSigned")),
        "amendments": amendments_of(raw.get("amendments")),
        "position": position,
    }


def typed_row(compiled_json: str, provenance: dict[str, Any]) -> dict[str, Any]:
    """One compiled release (JSON) and its provenance as a row of TYPED_SCHEMA."""
    release = _obj(orjson.loads(compiled_json))
    buyer = _obj(release.get("buyer"))
    return {
        **provenance,
        "compiled_release_id": text(release.get("id")),
        "compiled_date": parse_micros(release.get("date")),
        "buyer_id": text(buyer.get("id")),
        "buyer_name": text(buyer.get("name")),
        "parties": [party_of(p) for p in _objs(release.get("parties"))],
        "tender": tender_of(release.get("tender")),
        "awards": [award_of(a, i) for i, a in enumerate(_objs(release.get("awards")))],
        "contracts": [contract_of(c, i) for i, c in enumerate(_objs(release.get("contracts")))],
    }


PROVENANCE_COLUMNS = (
    "ocid",
    "release_ids",
    "release_count",
    "sources",
    "tags",
    "first_release_date",
    "last_release_date",
)


def typed_table(batch: pa.RecordBatch) -> pa.Table:
    """A batch of the compiled_releases table as a typed table (rows without JSON are skipped)."""
    columns = batch.to_pydict()
    rows = []
    for index, compiled in enumerate(columns["compiled_release"]):
        if compiled is None:
            continue
        provenance = {name: columns[name][index] for name in PROVENANCE_COLUMNS}
        rows.append(typed_row(compiled, provenance))
    return pa.Table.from_pylist(rows, schema=TYPED_SCHEMA)
