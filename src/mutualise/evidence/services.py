"""Evidence: take data snapshots, and read their aggregates and the rows behind each figure.

`refresh_snapshot` is the only state change: it gathers the named input tables, computes every
metric (pure functions in metrics.py), writes the row tables and aggregates as Parquet under
var/evidence/<snapshot_id>/ and records the snapshot. The snapshot id is the content hash of the
row tables, so the same data always gives the same id and the same figures. Requests read only
the stored aggregates (and, for the rows behind a figure, the stored row table).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from mutualise.core import audit
from mutualise.core.csvsafe import safe_table
from mutualise.evidence import metrics
from mutualise.evidence.metrics import Filters, Metric, Presented
from mutualise.evidence.models import Snapshot

PAGE_SIZE = 50


class EvidenceError(ValueError):
    """A request the evidence service cannot answer (unknown metric, bad filter value)."""


def evidence_root() -> Path:
    return Path(django_settings.MUTUALISE_VAR_DIR) / "evidence"


# One in-memory DuckDB per process (keyed by process id). A forked child makes its own and never
# touches, nor frees, the one it inherited: that database's threads live only in the parent, so
# closing it in the child crashes the child.
_shared_duckdb: dict[int, duckdb.DuckDBPyConnection] = {}
_shared_duckdb_lock = threading.Lock()


def _reader() -> duckdb.DuckDBPyConnection:
    """A cursor on this process's in-memory DuckDB, for reading snapshot files.

    Opening a new DuckDB database costs more than the queries a page makes over a snapshot;
    a cursor shares the database and is safe to use in one request thread.
    """
    pid = os.getpid()
    with _shared_duckdb_lock:
        database = _shared_duckdb.get(pid)
        if database is None:
            database = _shared_duckdb[pid] = duckdb.connect()
        return database.cursor()


def snapshot_dir(snapshot_id: str) -> Path:
    if not snapshot_id.isalnum():
        raise EvidenceError(f"not a snapshot id: {snapshot_id!r}")
    return evidence_root() / snapshot_id


def _parquet_bytes(frame: pd.DataFrame, *, sort: bool = False) -> bytes:
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    if sort and table.num_rows:
        # Row tables are stored in their display order, so paging through the rows behind a
        # figure reads them in file order instead of sorting a million rows on every request.
        with duckdb.connect() as connection:
            connection.register("unsorted", table)
            table = connection.sql("SELECT * FROM unsorted ORDER BY ALL").to_arrow_table()
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


# -- taking a snapshot ---------------------------------------------------------------------------
def compute_snapshot(
    tables: dict[str, pd.DataFrame],
) -> tuple[str, dict[str, bytes], dict[str, bytes], dict[str, Any]]:
    """Everything a snapshot stores, from the input tables: (id, row tables, cubes, manifest)."""
    results = metrics.compute_all(tables)
    row_files: dict[str, bytes] = {}
    for result in results.values():
        name = result.metric.row_table
        if name not in row_files:
            row_files[name] = _parquet_bytes(result.rows, sort=True)
    digest = hashlib.sha256()
    digest.update(metrics.settings().version.encode())
    as_of = str(tables["snapshot_info"]["as_of"].iloc[0])
    digest.update(as_of.encode())
    for name in sorted(row_files):
        digest.update(name.encode())
        digest.update(hashlib.sha256(row_files[name]).digest())
    snapshot_id = digest.hexdigest()[:16]
    cube_files = {slug: _parquet_bytes(result.cube) for slug, result in results.items()}
    manifest = {
        "snapshot_id": snapshot_id,
        "as_of": as_of,
        "rules_version": metrics.settings().version,
        "input_rows": {name: len(frame) for name, frame in sorted(tables.items())},
        "metrics": {
            slug: {
                "has_data": result.has_data,
                "note": result.note,
                "row_table": result.metric.row_table,
                "sources": list(result.metric.sources),
            }
            for slug, result in results.items()
        },
    }
    return snapshot_id, row_files, cube_files, manifest


def refresh_snapshot(actor: Any = None, as_of: date | None = None) -> Snapshot:
    """Take a snapshot of the current data; reuse it when the content has not changed."""
    from mutualise.evidence.gather import gather

    tables = gather(as_of)
    snapshot_id, row_files, cube_files, manifest = compute_snapshot(tables)
    folder = snapshot_dir(snapshot_id)
    if not (folder / "manifest.json").exists():
        staging = evidence_root() / f".staging-{uuid.uuid4().hex}"
        (staging / "rows").mkdir(parents=True)
        (staging / "cubes").mkdir()
        for name, content in row_files.items():
            (staging / "rows" / f"{name}.parquet").write_bytes(content)
        for slug, content in cube_files.items():
            (staging / "cubes" / f"{slug}.parquet").write_bytes(content)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        try:
            os.replace(staging, folder)
        except OSError:  # another process wrote the same snapshot first
            shutil.rmtree(staging, ignore_errors=True)
    now = timezone.now()
    with transaction.atomic():
        snapshot, created = Snapshot.objects.select_for_update().get_or_create(
            snapshot_id=snapshot_id,
            defaults={
                "created_at": now,
                "confirmed_at": now,
                "as_of": date.fromisoformat(manifest["as_of"]),
                "row_counts": manifest["input_rows"],
                "metrics": manifest["metrics"],
            },
        )
        if not created:
            snapshot.confirmed_at = now
            snapshot.save(update_fields=["confirmed_at"])
        audit.record(
            actor=actor,
            action="evidence.snapshot_refreshed",
            obj=snapshot,
            after={
                "snapshot_id": snapshot_id,
                "new": created,
                "input_rows": manifest["input_rows"],
            },
        )
    _current_cache.clear()
    return snapshot


def refresh_quietly() -> Snapshot | None:
    """For hooks after a pipeline or watch load: a failure here must not undo the load."""
    import logging

    try:
        return refresh_snapshot()
    except Exception:
        logging.getLogger(__name__).exception("evidence snapshot refresh failed")
        return None


# -- reading ---------------------------------------------------------------------------------
_current_cache: dict[str, Any] = {}
_lock = threading.Lock()


def current_snapshot() -> Snapshot | None:
    """The newest snapshot whose files are present (checked at most every 5 seconds)."""
    now = timezone.now()
    cached = _current_cache.get("value")
    if cached is not None and (now - _current_cache["at"]).total_seconds() < 5:
        return cached[0]
    snapshot = Snapshot.objects.order_by("-confirmed_at", "-id").first()
    if snapshot is not None and not (snapshot_dir(snapshot.snapshot_id) / "manifest.json").exists():
        snapshot = None
    with _lock:
        _current_cache["value"] = (snapshot,)
        _current_cache["at"] = now
    return snapshot


def get_snapshot(snapshot_id: str) -> Snapshot:
    snapshot = Snapshot.objects.filter(snapshot_id=snapshot_id).first()
    if snapshot is None or not (snapshot_dir(snapshot_id) / "manifest.json").exists():
        raise EvidenceError(f"no data snapshot {snapshot_id}")
    return snapshot


@lru_cache(maxsize=256)
def load_cube(snapshot_id: str, slug: str) -> pd.DataFrame:
    return pq.read_table(snapshot_dir(snapshot_id) / "cubes" / f"{slug}.parquet").to_pandas()


@lru_cache(maxsize=32)
def manifest(snapshot_id: str) -> dict[str, Any]:
    return json.loads((snapshot_dir(snapshot_id) / "manifest.json").read_text())


def row_table_path(snapshot_id: str, metric: Metric) -> Path:
    return snapshot_dir(snapshot_id) / "rows" / f"{metric.row_table}.parquet"


def get_metric(slug: str) -> Metric:
    try:
        return metrics.get_metric(slug)
    except KeyError as exc:
        raise EvidenceError(f"no figure called {slug}") from exc


# -- labels ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _label_maps() -> dict[str, dict[str, str]]:
    from mutualise.journeys.workflow import load_workflow
    from mutualise.organisations.reference import region_choices, sector_choices

    workflow = load_workflow()
    return {
        "sector": {
            **dict(sector_choices()),
            "other": "Other purchases",
            metrics.NOT_KNOWN: "Not known",
        },
        "region": {**dict(region_choices()), metrics.NOT_KNOWN: "Not known"},
        "supplier_class": dict(metrics.settings().supplier_classes),
        "stage": {s.code: s.staff_name for s in workflow.stages},
        "stage_group": {"live": "Live", "pipeline": "In the pipeline", "withdrawn": "Withdrawn"},
        "outcome": dict(workflow.outcomes),
        "buyer": {metrics.NOT_KNOWN: "Not known"},
    }


def label(name: str, value: Any) -> str:
    if name == "year":
        return "Not known" if not value else str(value)
    return _label_maps().get(name, {}).get(str(value), str(value))


def choices(name: str) -> list[tuple[str, str]]:
    return list(_label_maps()[name].items())


@lru_cache(maxsize=1)
def _stage_positions() -> dict[str, int]:
    from mutualise.journeys.workflow import load_workflow

    return {code: index for index, code in enumerate(load_workflow().codes)}


# -- presenting ------------------------------------------------------------------------------
@dataclass
class Figure:
    """One metric ready for a page: its presented view(s) and where it came from."""

    metric: Metric
    snapshot_id: str
    has_data: bool
    note: str
    views: list[Presented]
    filters_applied: dict[str, Any]


def present(
    snapshot_id: str, slug: str, filters: Filters, view_key: str | None = None
) -> Presented:
    metric = get_metric(slug)
    presented = metrics.present(metric, load_cube(snapshot_id, slug), filters, view_key, label)
    if "stage" in presented.view.by:
        positions = _stage_positions()
        presented.rows.sort(key=lambda row: positions.get(row.keys["stage"], 99))
    return presented


@lru_cache(maxsize=1024)
def figure(snapshot_id: str, slug: str, filters: Filters, all_views: bool = True) -> Figure:
    metric = get_metric(slug)
    info = manifest(snapshot_id)["metrics"].get(slug, {})
    keys = [view.key for view in metric.views] if all_views else [metric.views[0].key]
    return Figure(
        metric=metric,
        snapshot_id=snapshot_id,
        has_data=bool(info.get("has_data")),
        note=info.get("note", ""),
        views=[present(snapshot_id, slug, filters, k) for k in keys],
        filters_applied=filters.applied_to(metric),
    )


def dashboard(snapshot_id: str, filters: Filters) -> list[Figure]:
    return [figure(snapshot_id, m.slug, filters, False) for m in metrics.METRICS]


def parse_filters(params: Any) -> Filters:
    """Filters from a query string; bad values raise EvidenceError with a plain reason."""

    def year(name: str) -> int | None:
        value = (params.get(name) or "").strip()
        if not value:
            return None
        if not value.isdigit() or not 1990 <= int(value) <= 2100:
            raise EvidenceError(f"{name.replace('_', ' ')} must be a year like 2024")
        return int(value)

    year_from, year_to = year("year_from"), year("year_to")
    if year_from and year_to and year_from > year_to:
        raise EvidenceError("year from must be the same as or before year to")
    values = {}
    for name in ("sector", "region", "supplier_class"):
        value = (params.get(name) or "").strip()
        if value and value not in _label_maps()[name]:
            raise EvidenceError(f"{name.replace('_', ' ')} {value!r} is not one we know")
        values[name] = value
    buyer = (params.get("buyer") or "").strip()[:200]
    return Filters(year_from=year_from, year_to=year_to, buyer=buyer, **values)


def parse_keys(metric: Metric, params: Any) -> dict[str, str]:
    """The figure's own dimension values (k_<dimension>=value) from a query string."""
    keys = {}
    for name, value in params.items():
        if not name.startswith("k_"):
            continue
        dimension = name[2:]
        if dimension not in metric.dimensions:
            raise EvidenceError(f"{dimension} is not a dimension of {metric.slug}")
        if dimension == "year" and not str(value).isdigit():
            raise EvidenceError("year must be a number")
        keys[dimension] = str(value)
    return keys


# -- the rows behind a figure --------------------------------------------------------------------
@dataclass
class RowsPage:
    metric: Metric
    measure: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    total_rows: int
    measure_sum: int
    page: int
    pages: int


def _where(
    metric: Metric, filters: Filters, keys: dict[str, str], measure: str
) -> tuple[str, list[Any]]:
    """SQL conditions. Column names come only from the metric's definition (keys and the measure
    are checked against it first); every value is a bound parameter."""
    clauses, params = [], []
    for name, condition in filters.applied_to(metric).items():
        if name == "year":
            low, high = condition
            if low:
                clauses.append("year >= ?")
                params.append(low)
            if high:
                clauses.append("year <= ?")
                params.append(high)
        elif name == "buyer":
            clauses.append("contains(lower(buyer), lower(?))")
            params.append(condition)
        else:
            clauses.append(f'"{name}" = ?')
            params.append(condition)
    for name, value in keys.items():
        if name == "year":
            clauses.append("year = ?")
            params.append(int(value))
        else:
            clauses.append(f'CAST("{name}" AS VARCHAR) = ?')
            params.append(value)
    if measure:
        clauses.append(f'"{measure}" <> 0')
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _check_measure(metric: Metric, measure: str) -> str:
    if not measure:
        return metric.measures[0].column
    if measure not in {m.column for m in metric.measures}:
        raise EvidenceError(f"{measure} is not a measure of {metric.slug}")
    return measure


@functools.lru_cache(maxsize=512)
def _totals(source: str, where: str, params: tuple[Any, ...], measure: str) -> tuple[int, Any]:
    """Row count and measure total for a filter; a snapshot never changes, so they are kept."""
    with _reader() as connection:
        totals = connection.execute(
            f'SELECT count(*), coalesce(sum("{measure}"), 0) FROM {source}{where}',  # noqa: S608
            list(params),
        ).fetchone()
    assert totals is not None  # an aggregate without GROUP BY always returns one row
    return int(totals[0]), totals[1]


def rows_behind(
    snapshot_id: str,
    slug: str,
    filters: Filters,
    keys: dict[str, str],
    measure: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> RowsPage:
    metric = get_metric(slug)
    measure = _check_measure(metric, measure)
    path = row_table_path(snapshot_id, metric)
    columns = list(dict.fromkeys([*metric.row_columns, *[m.column for m in metric.measures]]))
    where, params = _where(metric, filters, keys, measure)
    source = f"read_parquet('{path.as_posix()}')"
    count, total = _totals(source, where, tuple(params), measure)
    with _reader() as connection:
        pages = max(1, -(-int(count) // page_size))
        page = min(max(1, page), pages)
        select_list = ", ".join(f'"{c}"' for c in columns)
        rows = connection.execute(
            # No ORDER BY: the file is stored sorted and DuckDB keeps file order for a scan.
            f"SELECT {select_list} FROM {source}{where} LIMIT {page_size} "  # noqa: S608
            f"OFFSET {(page - 1) * page_size}",
            params,
        ).fetchall()
    return RowsPage(metric, measure, columns, rows, int(count), int(total), page, pages)


def export_rows(
    snapshot_id: str,
    slug: str,
    filters: Filters,
    keys: dict[str, str],
    measure: str,
    file_format: str,
) -> tuple[bytes, str]:
    """All the rows behind a figure as CSV, JSON or Parquet: (content, content type)."""
    metric = get_metric(slug)
    measure = _check_measure(metric, measure) if measure else ""
    path = row_table_path(snapshot_id, metric)
    where, params = _where(metric, filters, keys, measure)
    with _reader() as connection:
        table = connection.sql(
            f"SELECT * FROM read_parquet('{path.as_posix()}'){where}",  # noqa: S608 - stored sorted
            params=params,
        ).to_arrow_table()
    return encode(table, file_format)


def export_table(
    snapshot_id: str, slug: str, filters: Filters, view_key: str | None, file_format: str
) -> tuple[bytes, str]:
    """The table behind a dashboard figure (its presented view) as CSV, JSON or Parquet."""
    records = present(snapshot_id, slug, filters, view_key).records()
    frame = pd.DataFrame.from_records(records)
    frame.insert(0, "snapshot_id", snapshot_id)
    return encode(pa.Table.from_pandas(frame, preserve_index=False), file_format)


def encode(table: pa.Table, file_format: str) -> tuple[bytes, str]:
    if file_format == "parquet":
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        return buffer.getvalue(), "application/vnd.apache.parquet"
    if file_format == "json":
        return json.dumps(table.to_pylist(), default=str, indent=1).encode(), "application/json"
    if file_format == "csv":
        # CRLF (RFC 4180): with a bare \n line end pandas leaves a \r in a cell unquoted.
        csv_text = safe_table(table).to_pandas().to_csv(index=False, lineterminator="\r\n")
        return csv_text.encode(), "text/csv; charset=utf-8"
    raise EvidenceError(f"format must be csv, json or parquet, not {file_format!r}")


def iter_metrics() -> Iterator[Metric]:
    yield from metrics.METRICS


HEADINGS = {
    "year": "Year",
    "sector": "Sector",
    "region": "Region",
    "buyer": "Buyer",
    "supplier_class": "Supplier class",
    "stage": "Stage",
    "stage_group": "Stage group",
    "round": "Fund round",
    "outcome": "Outcome",
}


def label_heading(name: str) -> str:
    return HEADINGS.get(name, name.replace("_", " ").capitalize())
