"""Flatten compiled releases into the analytics tables, with Ibis on DuckDB or PySpark.

Two steps:
1. the edge (`typed.py`): compiled release JSON → `compiled/typed/`, a typed nested Parquet table
   (Python with orjson, the same for both engines);
2. the transforms (this module): Ibis expressions over that table — unnesting parties, lots,
   awards, suppliers, contracts and amendments, joining suppliers to parties, normalising
   reserved-participation codes — executed by the chosen engine and written to `tables/<name>/`.
"""

from __future__ import annotations

import gc
import os
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from mutualise.pipeline.engines import connect_engine
from mutualise.pipeline.typed import PROVENANCE_COLUMNS, TYPED_SCHEMA, typed_table
from mutualise.pipeline.warehouse import ANALYTICS_TABLES, Warehouse

EDGE_BATCH = 10_000

# Reserved-participation codes as published → the codes the product uses (DOMAIN.md §6).
RESERVED_CODES = {
    "publicServiceMissionOrganization": "publicService",
    "publicService": "publicService",
    "shelteredWorkshop": "shelteredWorkshop",
    "smeVcse": "smeVcse",
}


@dataclass
class FlattenSummary:
    engine: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# -- step 1: the edge ----------------------------------------------------------------------------
def _edge_part(args: tuple[str, list[str], str]) -> int:
    """Convert some compiled Parquet fragments into one typed Parquet file."""
    target, fragments, _ = args
    columns = ["compiled_release", *PROVENANCE_COLUMNS]
    rows = 0
    # Parsed JSON makes no reference cycles: the cyclic collector's passes over the many small
    # dicts built here would only cost time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with pq.ParquetWriter(target, TYPED_SCHEMA, compression="zstd") as writer:
            for fragment in fragments:
                for batch in pq.ParquetFile(fragment).iter_batches(EDGE_BATCH, columns=columns):
                    table = typed_table(batch)
                    rows += table.num_rows
                    writer.write_table(table)
    finally:
        if enabled:
            gc.enable()
    return rows


def build_typed(warehouse: Warehouse, workers: int = 2) -> Path:
    """Write `compiled/typed/` from `compiled/compiled_releases/`; return its folder."""
    target = warehouse.root / "compiled" / "typed"
    staging = target.with_name(f".typed-{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    tasks = _edge_tasks(warehouse, staging, workers)
    if len(tasks) > 1:
        with ProcessPoolExecutor(len(tasks), mp_context=get_context("fork")) as pool:
            list(pool.map(_edge_part, tasks))
    else:
        for task in tasks:
            _edge_part(task)
    _swap(staging, target)
    return target


def _edge_tasks(
    warehouse: Warehouse, staging: Path, workers: int
) -> list[tuple[str, list[str], str]]:
    """Split the compiled table's row groups between workers (each row group is ~50k ocids)."""
    files = sorted(str(path) for path in warehouse.compiled_dir.glob("*.parquet"))
    groups: list[tuple[str, int, int]] = []  # (file, row group, rows)
    for path in files:
        metadata = pq.ParquetFile(path).metadata
        groups.extend(
            (path, index, metadata.row_group(index).num_rows)
            for index in range(metadata.num_row_groups)
        )
    if len(groups) <= 1 or workers <= 1:
        return [(str(staging / "part-0.parquet"), files, "")]
    # Row groups are split into per-worker fragment files so each worker reads only its share.
    tasks = []
    for worker, mine in enumerate(_balanced(groups, min(workers, len(groups)))):
        fragment_paths = []
        for number, (path, index, _) in enumerate(mine):
            fragment = staging / f".in-{worker}-{number}.parquet"
            pq.write_table(pq.ParquetFile(path).read_row_group(index), fragment)
            fragment_paths.append(str(fragment))
        tasks.append((str(staging / f"part-{worker}.parquet"), fragment_paths, ""))
    return tasks


def _balanced(groups: list[tuple[str, int, int]], workers: int) -> list[list[tuple[str, int, int]]]:
    """Row groups shared so that each worker gets about as many rows: the largest first, each to
    the worker with the fewest so far (row groups differ in size: taking every other one could
    give one worker all the big ones)."""
    shares: list[list[tuple[str, int, int]]] = [[] for _ in range(workers)]
    rows = [0] * workers
    for group in sorted(groups, key=lambda group: -group[2]):
        worker = rows.index(min(rows))
        shares[worker].append(group)
        rows[worker] += group[2]
    return [sorted(share) for share in shares]


def _swap(staging: Path, target: Path) -> None:
    """Replace `target` with `staging` in two renames, removing leftovers."""
    for leftover in staging.glob(".in-*"):
        leftover.unlink()
    old = target.with_name(f".{target.name}-old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


# -- step 2: the transforms (Ibis) ---------------------------------------------------------------
def _provenance(table: ir.Table) -> list[Any]:
    return [table.ocid, table.sources, table.release_ids]


def _value(prefix: str, value: Any) -> dict[str, Any]:
    return {
        f"{prefix}amount": value.amount,
        f"{prefix}amount_pence": value.amount_pence,
        f"{prefix}currency": value.currency,
    }


def _period(prefix: str, period: Any) -> dict[str, Any]:
    return {
        f"{prefix}start_date": period.start_date,
        f"{prefix}end_date": period.end_date,
        f"{prefix}duration_in_days": period.duration_in_days,
        f"{prefix}duration_in_months": period.duration_in_months,
    }


def _normalise_reserved(codes: Any) -> Any:
    """Map converter spellings of reserved-participation codes onto the product's codes."""
    return codes.map(
        lambda code: ibis.cases(
            *[
                (code == published, ours)
                for published, ours in RESERVED_CODES.items()
                if published != ours
            ],
            else_=code,
        )
    )


def processes(t: ir.Table) -> ir.Table:
    tender = t.tender
    return t.select(
        *_provenance(t),
        title=tender.title,
        description=tender.description,
        buyer_id=t.buyer_id,
        buyer_name=t.buyer_name,
        main_procurement_category=tender.main_procurement_category,
        procurement_method=tender.procurement_method,
        procurement_method_details=tender.procurement_method_details,
        first_release_date=t.first_release_date,
        last_release_date=t.last_release_date,
        release_count=t.release_count,
        tags=t.tags,
    )


def parties(t: ir.Table) -> ir.Table:
    unnested = t.select(*_provenance(t), party=t.parties.unnest())
    party = unnested.party
    return unnested.select(
        unnested.ocid,
        unnested.sources,
        unnested.release_ids,
        party_id=party.id,
        name=party["name"],
        roles=party.roles,
        identifier_scheme=party.identifier.scheme,
        identifier_id=party.identifier.id,
        identifier_legal_name=party.identifier.legal_name,
        additional_identifiers=party.additional_identifiers,
        street_address=party.street_address,
        locality=party.locality,
        region=party.region,
        postal_code=party.postal_code,
        country_name=party.country_name,
        scale=party.scale,
        vcse=party.vcse,
        public_service_mission_organization=party.public_service_mission_organization,
    )


def buyers(party_table: ir.Table, t: ir.Table) -> ir.Table:
    """The buyer of each process: the party the `buyer` reference points at, else its name only."""
    reference = t.select(
        t.ocid, t.sources, t.release_ids, buyer_id=t.buyer_id, buyer_name=t.buyer_name
    )
    reference = reference.filter(reference.buyer_id.notnull() | reference.buyer_name.notnull())
    candidates = party_table.select(
        "ocid",
        "party_id",
        "identifier_scheme",
        "identifier_id",
        "identifier_legal_name",
        "locality",
        "postal_code",
        "country_name",
        "scale",
    )
    joined = reference.left_join(
        candidates,
        (reference.ocid == candidates.ocid) & (reference.buyer_id == candidates.party_id),
    )
    return joined.select(
        reference.ocid,
        reference.sources,
        reference.release_ids,
        buyer_id=reference.buyer_id,
        name=reference.buyer_name,
        identifier_scheme=joined.identifier_scheme,
        identifier_id=joined.identifier_id,
        identifier_legal_name=joined.identifier_legal_name,
        locality=joined.locality,
        postal_code=joined.postal_code,
        country_name=joined.country_name,
    )


def tenders(t: ir.Table) -> ir.Table:
    present = t.filter(t.tender.notnull())
    tender = present.tender
    return present.select(
        *_provenance(present),
        tender_id=tender.id,
        title=tender.title,
        description=tender.description,
        status=tender.status,
        main_procurement_category=tender.main_procurement_category,
        procurement_method=tender.procurement_method,
        procurement_method_details=tender.procurement_method_details,
        cpv_scheme=tender.classification.scheme,
        cpv_id=tender.classification.id,
        cpv_description=tender.classification.description,
        **_value("value_", tender.value),
        tender_period_end_date=tender.tender_period.end_date,
        **_period("contract_period_", tender.contract_period),
        suitability_sme=tender.suitability.sme,
        suitability_vcse=tender.suitability.vcse,
        reserved_participation=_normalise_reserved(tender.reserved_participation),
        lot_count=tender.lots.length(),
    )


def lots(t: ir.Table) -> ir.Table:
    unnested = t.select(*_provenance(t), tender=t.tender, lot=t.tender.lots.unnest())
    lot, tender = unnested.lot, unnested.tender
    # A lot without its own reserved participation inherits the tender's.
    reserved = lot.reserved_participation.coalesce(tender.reserved_participation)
    return unnested.select(
        unnested.ocid,
        unnested.sources,
        unnested.release_ids,
        lot_id=lot.id,
        position=lot.position,
        title=lot.title,
        description=lot.description,
        status=lot.status,
        cpv_id=lot.classification.id.coalesce(tender.classification.id),
        cpv_description=lot.classification.description.coalesce(tender.classification.description),
        additional_cpv_ids=lot.additional_classifications.map(lambda c: c.id),
        suitability_sme=lot.suitability.sme.coalesce(tender.suitability.sme),
        suitability_vcse=lot.suitability.vcse.coalesce(tender.suitability.vcse),
        **_value("value_", lot.value),
        **_period("contract_period_", lot.contract_period),
        has_renewal=lot.has_renewal,
        renewal_description=lot.renewal_description,
        renewal_max_extent_date=lot.renewal_max_extent_date,
        reserved_participation=_normalise_reserved(reserved),
    )


def _awards_unnested(t: ir.Table) -> ir.Table:
    return t.select(*_provenance(t), award=t.awards.unnest())


def awards(t: ir.Table) -> ir.Table:
    unnested = _awards_unnested(t)
    award = unnested.award
    return unnested.select(
        unnested.ocid,
        unnested.sources,
        unnested.release_ids,
        award_id=award.id,
        position=award.position,
        status=award.status,
        date=award.date,
        title=award.title,
        description=award.description,
        **_value("value_", award.value),
        **_period("contract_period_", award.contract_period),
        related_lots=award.related_lots,
        supplier_count=award.suppliers.length(),
    )


def award_suppliers(t: ir.Table, party_table: ir.Table) -> ir.Table:
    unnested = _awards_unnested(t)
    suppliers = unnested.select(
        unnested.ocid,
        unnested.sources,
        unnested.release_ids,
        award_id=unnested.award.id,
        supplier=unnested.award.suppliers.unnest(),
    )
    suppliers = suppliers.select(
        "ocid",
        "sources",
        "release_ids",
        "award_id",
        supplier_id=suppliers.supplier.id,
        supplier_name=suppliers.supplier["name"],
        position=suppliers.supplier.position,
    )
    known = party_table.select(
        party_ocid=party_table.ocid,
        party_id=party_table.party_id,
        party_name=party_table.name,
        identifier_scheme=party_table.identifier_scheme,
        identifier_id=party_table.identifier_id,
        scale=party_table.scale,
        vcse=party_table.vcse,
        public_service_mission_organization=party_table.public_service_mission_organization,
    )
    joined = suppliers.left_join(
        known, (suppliers.ocid == known.party_ocid) & (suppliers.supplier_id == known.party_id)
    )
    return joined.select(
        "ocid",
        "sources",
        "release_ids",
        "award_id",
        "supplier_id",
        "position",
        name=joined.supplier_name.coalesce(joined.party_name),
        identifier_scheme=joined.identifier_scheme,
        identifier_id=joined.identifier_id,
        scale=joined.scale,
        vcse=joined.vcse,
        public_service_mission_organization=joined.public_service_mission_organization,
    )


def contracts(t: ir.Table) -> ir.Table:
    unnested = t.select(*_provenance(t), contract=t.contracts.unnest())
    contract = unnested.contract
    return unnested.select(
        unnested.ocid,
        unnested.sources,
        unnested.release_ids,
        contract_id=contract.id,
        position=contract.position,
        award_id=contract.award_id,
        title=contract.title,
        status=contract.status,
        period_start_date=contract.period.start_date,
        period_end_date=contract.period.end_date,
        **_value("value_", contract.value),
        date_signed=contract.date_signed,
    )


def amendments(t: ir.Table) -> ir.Table:
    """Amendments of tenders, awards and contracts in one table, with what they amend."""

    def rows(kind: str, owner: Any, owner_id: Any, amendment: Any, table: ir.Table) -> ir.Table:
        return table.select(
            table.ocid,
            table.sources,
            table.release_ids,
            amends=ibis.literal(kind),
            amends_id=owner_id,
            amendment_id=amendment.id,
            position=amendment.position,
            date=amendment.date,
            description=amendment.description,
            rationale=amendment.rationale,
        )

    tender_rows = t.select(*_provenance(t), owner=t.tender, amendment=t.tender.amendments.unnest())
    award_rows = _awards_unnested(t)
    award_rows = award_rows.select(
        "ocid",
        "sources",
        "release_ids",
        owner=award_rows.award,
        amendment=award_rows.award.amendments.unnest(),
    )
    contract_rows = t.select(*_provenance(t), owner=t.contracts.unnest())
    contract_rows = contract_rows.select(
        "ocid",
        "sources",
        "release_ids",
        owner=contract_rows.owner,
        amendment=contract_rows.owner.amendments.unnest(),
    )
    parts = [
        rows("tender", tender_rows.owner, tender_rows.owner.id, tender_rows.amendment, tender_rows),
        rows("award", award_rows.owner, award_rows.owner.id, award_rows.amendment, award_rows),
        rows(
            "contract",
            contract_rows.owner,
            contract_rows.owner.id,
            contract_rows.amendment,
            contract_rows,
        ),
    ]
    return ibis.union(*parts)


def build_tables(t: ir.Table) -> dict[str, ir.Table]:
    """Every analytics table as an Ibis expression over the typed compiled-release table."""
    party_table = parties(t)
    tables = {
        "processes": processes(t),
        "buyers": buyers(party_table, t),
        "parties": party_table,
        "tenders": tenders(t),
        "lots": lots(t),
        "awards": awards(t),
        "award_suppliers": award_suppliers(t, party_table),
        "contracts": contracts(t),
        "amendments": amendments(t),
    }
    assert tuple(tables) == ANALYTICS_TABLES
    return tables


# -- the run -------------------------------------------------------------------------------------
def flatten(
    warehouse_dir: Path | None = None,
    engine: str = "duckdb",
    progress: Callable[[str], None] | None = None,
    workers: int = 2,
) -> FlattenSummary:
    """Write the analytics tables under `tables/` from the compiled releases."""
    started = time.monotonic()
    warehouse = Warehouse(warehouse_dir)
    summary = FlattenSummary(engine=engine)
    if not any(warehouse.compiled_dir.glob("*.parquet")):
        raise FileNotFoundError(
            f"no compiled releases in {warehouse.compiled_dir}: run compile first"
        )
    with warehouse.writing(f"flatten ({engine})"):
        warehouse.remove_leftovers(warehouse.compiled_dir.parent, ".typed-")
        for name in ANALYTICS_TABLES:
            warehouse.remove_leftovers(warehouse.tables_dir, f".{name}-")
        typed_dir = build_typed(warehouse, workers)
        with connect_engine(engine, warehouse.root) as session:
            typed = session.read_parquet(typed_dir)
            for name, expression in build_tables(typed).items():
                if progress is not None:
                    progress(name)
                summary.rows[name] = session.write_parquet(expression, warehouse.table_dir(name))
    summary.seconds = time.monotonic() - started
    return summary


def _count(dataset_dir: Path) -> int:
    return ds.dataset(dataset_dir, format="parquet").count_rows()
