"""The programme's own organisations as a register (registers/programme.parquet). No Django.

The Django side (mutualise.suppliers.services.export_programme_register) turns Organisation and
Identifier rows into `ProgrammeOrganisation` items and calls `write_programme_register`; the
benchmark and tests build the same items from a generated programme dict. One row is written per
identifier, all rows of one organisation sharing its canonical identifier (GB-COH first, then
GB-MPR, GB-CHC, then any other scheme); an organisation without identifiers gets one row keyed
`PROGRAMME-<reference>` so that it can still be matched by name.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mutualise.organisations.identifiers import normalise
from mutualise.pipeline.registers.loaders import COMMON_COLUMNS, PROGRAMME_FILE
from mutualise.pipeline.registers.names import normalise_name
from mutualise.pipeline.warehouse import Warehouse

SCHEME_PREFERENCE = ("GB-COH", "GB-MPR", "GB-CHC", "GB-SC", "GB-NIC")

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "BIGINT": pa.int64(),
}
SCHEMA = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in COMMON_COLUMNS.items()])


@dataclass
class ProgrammeOrganisation:
    reference: str
    name: str
    kind: str  # public_body | staff_group | mutual | social_enterprise | private_company
    legal_form: str = ""
    identifiers: list[tuple[str, str]] = field(default_factory=list)


def canonical_identifier(reference: str, identifiers: list[tuple[str, str]]) -> str:
    ranked = sorted(
        identifiers,
        key=lambda item: (
            SCHEME_PREFERENCE.index(item[0])
            if item[0] in SCHEME_PREFERENCE
            else len(SCHEME_PREFERENCE)
        ),
    )
    if ranked:
        scheme, value = ranked[0]
        return f"{scheme}-{value}"
    return f"PROGRAMME-{reference}"


def programme_rows(organisations: list[ProgrammeOrganisation]) -> list[dict[str, Any]]:
    rows = []
    for org in organisations:
        identifiers = [
            (scheme.upper(), normalise(scheme, value))
            for scheme, value in org.identifiers
            if scheme.upper() not in ("GB-CFS", "GB-FTS")
        ]
        canonical = canonical_identifier(org.reference, identifiers)
        legal = org.legal_form or ""
        base = {
            "register": "programme",
            "canonical_identifier": canonical,
            "name": org.name,
            "name_normalised": normalise_name(org.name),
            "legal_form": legal or None,
            "status": "programme",
            "is_cic": legal.startswith("cic"),
            "is_society": legal
            in ("community_benefit_society", "cooperative_society", "registered_society"),
            "is_charity": legal in ("cio", "charity"),
            "is_cio": legal == "cio",
            "is_guarantee": legal in ("company_guarantee", "cic_guarantee"),
            "is_plc": legal == "plc",
            "is_public_body": org.kind == "public_body",
            "programme_reference": org.reference,
            "programme_kind": org.kind,
            "source_file": PROGRAMME_FILE,
        }
        for scheme, value in identifiers or [("PROGRAMME", org.reference)]:
            rows.append(
                {**base, "identifier": f"{scheme}-{value}", "scheme": scheme, "local_id": value}
            )
    return rows


def programme_from_dict(programme: dict[str, Any]) -> list[ProgrammeOrganisation]:
    """The generated programme (synth.programme / programme.json) as programme organisations."""
    result = [
        ProgrammeOrganisation(
            body["key"],
            body["name"],
            "public_body",
            "public_body",
            [(i["scheme"], i["id"]) for i in body.get("identifiers", [])],
        )
        for body in programme.get("public_bodies", [])
    ]
    for org in programme.get("organisations", []):
        result.append(
            ProgrammeOrganisation(
                org["key"],
                org["name"],
                org["kind"],
                org.get("legal_form") or "",
                [(i["scheme"], i["id"]) for i in org.get("identifiers", [])],
            )
        )
    return result


def write_programme_register(
    organisations: list[ProgrammeOrganisation], warehouse_dir: Path | str | None = None
) -> Path:
    """Write registers/programme.parquet atomically; returns its path."""
    rows = programme_rows(organisations)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    target = Warehouse(warehouse_dir).root / "registers" / PROGRAMME_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}-{uuid.uuid4().hex[:8]}")
    pq.write_table(table, temporary)
    os.replace(temporary, target)
    return target
