"""Compile the ingested releases into one compiled release per ocid.

Streaming, so memory stays flat however large the input. Two paths:
- an ocid with one "simple" release (flagged at ingest: no nulls, no empty containers, no
  repeated ids) compiles to the release itself with a new id, date and tag. DuckDB writes these
  rows itself, in parallel and spilling to disk past its memory limit, assembling each JSON
  from the stored body as text without parsing it;
- every other ocid is merged by the OCDS merge rules (identical output to ocdsmerge). One pass
  over the releases writes those ocids' rows into partitions of about PARTITION_BYTES of JSON by
  a hash of the ocid (Parquet, in the warehouse's tmp folder); each worker process takes every
  other partition, sorts it by (ocid, date, ingest order) and compiles it: in C
  (`native.compile_sorted`), or with `merge.Merger` for what the C merge leaves, for versioned
  releases and when the C module is off. Each worker writes its own Parquet file; nothing but
  file names crosses between processes.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mutualise.pipeline import native
from mutualise.pipeline.merge import Merger, default_plan
from mutualise.pipeline.warehouse import Warehouse

COMPILED_SCHEMA = pa.schema(
    [
        ("ocid", pa.string()),
        ("compiled_release", pa.string()),
        ("versioned_release", pa.string()),
        ("release_count", pa.int64()),
        ("release_ids", pa.list_(pa.string())),
        ("first_release_date", pa.timestamp("us", tz="UTC")),
        ("last_release_date", pa.timestamp("us", tz="UTC")),
        ("tags", pa.list_(pa.string())),
        ("sources", pa.list_(pa.string())),
        ("merge_error", pa.string()),
    ]
)

READ_BATCH = 5_000  # rows turned into Python values at a time (the Python merge)
OUTPUT_ROWS = 10_000  # compiled releases per Parquet row group / file flush
DUCKDB_MEMORY = "256MB"  # compile stays under 1 GB at 1M releases
PARTITION_BYTES = 48 * 1024 * 1024  # JSON bodies a worker sorts and merges at a time
PARTITION_ROW_GROUP = 2048  # rows; small, so DuckDB's buffer for each partition stays small


@dataclass
class CompileSummary:
    releases: int = 0
    compiled: int = 0
    merged: int = 0
    errors: int = 0
    seconds: float = 0.0


# -- merging, in each worker -------------------------------------------------------------------
ROW_COLUMNS = ["ocid", "release_id", "date", "tag", "body", "simple", "source", "date_utc"]


def _release(row: tuple) -> dict[str, Any]:
    ocid, release_id, date, tag, body = row[:5]
    release = orjson.loads(body)
    release["ocid"] = ocid
    if release_id is not None:
        release["id"] = release_id
    release["date"] = date
    if tag is not None:
        release["tag"] = tag
    return release


def merge_group(
    rows: list[tuple], compiler: Merger, versioner: Merger | None
) -> tuple[str | None, str | None, str | None]:
    """Compile one ocid's rows (ROW_COLUMNS), sorted by date: (compiled JSON, versioned JSON,
    error)."""
    try:
        releases = [_release(row) for row in rows]
        simple = [bool(row[5]) for row in rows]
        compiled = orjson.dumps(compiler.compiled(releases, simple)).decode()
        history = None
        if versioner is not None:
            history = orjson.dumps(versioner.versioned_release(releases)).decode()
        return compiled, history, None
    except Exception as error:  # one broken ocid must not stop the run; it is reported
        return None, None, f"{type(error).__name__}: {error}"


@dataclass
class _Job:
    """The partitions one worker merges, and where it writes them."""

    partitions: list[str]
    target: str
    versioned: bool


def merge_partitions(job: _Job) -> tuple[int, int, int]:
    """Merge the job's partitions into its own Parquet file: (releases, ocids, errors)."""
    compiler = Merger(default_plan())
    versioner = Merger(default_plan(), versioned=True) if job.versioned else None
    plan = None if job.versioned else native.merge_plan(compiler.plan)
    releases = compiled = errors = 0
    output = _PartWriter(Path(job.target))
    with _no_gc():
        for path in job.partitions:
            table = _read_partition(Path(path))
            order = pc.sort_indices(table, [(key, "ascending") for key in ("ocid", "date", "seq")])
            if plan is not None:
                groups, group_errors = _merge_natively(table, order, plan, compiler, output)
            else:
                groups, group_errors = _merge_in_python(
                    table.take(order), compiler, versioner, output
                )
            releases += table.num_rows
            compiled += groups
            errors += group_errors
    output.close()
    return releases, compiled, errors


def _read_partition(folder: Path) -> pa.Table:
    """A partition's Parquet files as one table, a record batch per row group (no copy joins
    them). ParquetFile, not read_table: the latter's dataset layer imports pandas, 0.25 s in
    every new worker process."""
    batches = [
        batch
        for path in sorted(folder.glob("*.parquet"))
        for batch in pq.ParquetFile(path).iter_batches(batch_size=PARTITION_ROW_GROUP)
    ]
    return pa.Table.from_batches(batches)  # DuckDB writes no partition without rows


def _merge_natively(
    table: pa.Table, order: pa.Array, plan: Any, compiler: Merger, output: _PartWriter
) -> tuple[int, int]:
    """Compile a partition in C, in `order`; the ocids it leaves are merged by `compiler`."""
    groups, columns, refused = native.compile_sorted(plan, table, order)
    compiled = native.table_from_buffers(COMPILED_SCHEMA, columns)
    if refused:
        releases = compiled["compiled_release"].to_pylist()
        errors = compiled["merge_error"].to_pylist()
        for group, first, end in refused:
            part = table.take(order[first:end]).select(ROW_COLUMNS).to_pydict()
            rows = list(zip(*part.values(), strict=True))
            releases[group], _, errors[group] = merge_group(rows, compiler, None)
        compiled = compiled.set_column(
            COMPILED_SCHEMA.get_field_index("compiled_release"),
            COMPILED_SCHEMA.field("compiled_release"),
            pa.array(releases, pa.string()),
        ).set_column(
            COMPILED_SCHEMA.get_field_index("merge_error"),
            COMPILED_SCHEMA.field("merge_error"),
            pa.array(errors, pa.string()),
        )
    output.add_table(compiled)
    return groups, compiled.num_rows - compiled["merge_error"].null_count


def _merge_in_python(
    table: pa.Table, compiler: Merger, versioner: Merger | None, output: _PartWriter
) -> tuple[int, int]:
    groups = errors = 0
    for rows in _groups(table.select(ROW_COLUMNS).to_batches(READ_BATCH)):
        row = _describe(rows)
        row["compiled_release"], row["versioned_release"], row["merge_error"] = merge_group(
            rows, compiler, versioner
        )
        output.add(row)
        groups += 1
        errors += row["merge_error"] is not None
    return groups, errors


# -- the run -------------------------------------------------------------------------------------
class _PartWriter:
    """Compiled rows flushed to one Parquet file, OUTPUT_ROWS at a time."""

    def __init__(self, path: Path) -> None:
        self.writer = pq.ParquetWriter(path, COMPILED_SCHEMA, compression="zstd")
        self.rows: dict[str, list[Any]] = {name: [] for name in COMPILED_SCHEMA.names}

    def add(self, row: dict[str, Any]) -> None:
        for name, values in self.rows.items():
            values.append(row.get(name))
        if len(self.rows["ocid"]) >= OUTPUT_ROWS:
            self.flush()

    def add_table(self, table: pa.Table) -> None:
        self.flush()
        self.writer.write_table(table, row_group_size=OUTPUT_ROWS)

    def flush(self) -> None:
        if self.rows["ocid"]:
            self.writer.write_table(pa.Table.from_pydict(self.rows, schema=COMPILED_SCHEMA))
            self.rows = {name: [] for name in COMPILED_SCHEMA.names}

    def close(self) -> None:
        self.flush()
        self.writer.close()


class _Output:
    """The compiled table's files, written in a fresh folder swapped in at the end."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.staging = target.with_name(f".{target.name}-{uuid.uuid4().hex[:8]}")
        self.staging.mkdir(parents=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def finish(self) -> None:
        old = self.target.with_name(f".{self.target.name}-old-{uuid.uuid4().hex[:8]}")
        if self.target.exists():
            os.replace(self.target, old)
        os.replace(self.staging, self.target)
        shutil.rmtree(old, ignore_errors=True)


def _describe(rows: list[tuple]) -> dict[str, Any]:
    """Provenance of one ocid's releases."""
    tags: list[str] = []
    sources: list[str] = []
    for row in rows:
        for tag in row[3] or []:
            if tag not in tags:
                tags.append(tag)
        if row[6] not in sources:
            sources.append(row[6])
    return {
        "ocid": rows[0][0],
        "release_count": len(rows),
        "release_ids": [row[1] for row in rows],
        "first_release_date": rows[0][7],
        "last_release_date": rows[-1][7],
        "tags": tags,
        "sources": sources,
    }


def _groups(reader: Any) -> Iterator[list[tuple]]:
    """Rows of the sorted stream, grouped by ocid (a group may span record batches)."""
    current: list[tuple] = []
    for batch in reader:
        columns = batch.to_pydict()
        for row in zip(*columns.values(), strict=True):
            if current and row[0] != current[0][0]:
                yield current
                current = []
            current.append(row)
    if current:
        yield current


def _merge_bytes(connection: duckdb.DuckDBPyConnection, files: list[Path]) -> int:
    """About how many bytes of JSON the ocids in `merge_ocids` have: the body column's size from
    the Parquet metadata, in proportion to their releases (reading the bodies to measure them
    would cost a pass over all of them)."""
    listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    body, rows = connection.execute(
        "SELECT sum(total_uncompressed_size) FILTER (WHERE path_in_schema = 'body'), "  # noqa: S608
        f"(SELECT count(*) FROM releases) FROM parquet_metadata([{listed}])"
    ).fetchall()[0]
    merged = connection.execute("SELECT sum(releases) FROM merge_ocids").fetchall()[0][0]
    return int(body or 0) * int(merged or 0) // max(1, int(rows or 0))


def _partition(connection: duckdb.DuckDBPyConnection, partitions: int, folder: Path) -> list[str]:
    """Write the releases of the ocids in `merge_ocids` into `partitions` folders of Parquet by a
    hash of the ocid, in one pass (so each process's releases land in one partition). Small row
    groups keep DuckDB's buffers, one per partition, within its memory limit."""
    target = str(folder).replace("'", "''")
    connection.execute(f"SET partitioned_write_flush_threshold = {PARTITION_ROW_GROUP}")
    connection.execute(
        "COPY (SELECT ocid, release_id, date, tag, body, simple, source, "  # noqa: S608
        f"epoch_us(date_utc) AS date_utc, seq, hash(ocid) % {partitions} AS part "
        "FROM releases WHERE ocid IN (SELECT ocid FROM merge_ocids)) "
        f"TO '{target}' (FORMAT parquet, PARTITION_BY (part), COMPRESSION lz4, "
        f"ROW_GROUP_SIZE {PARTITION_ROW_GROUP})"
    )
    return sorted(str(path) for path in folder.glob("part=*"))


def _configure(
    connection: duckdb.DuckDBPyConnection, threads: int, memory: str, spill: str
) -> None:
    connection.execute(f"SET threads = {max(1, threads)}")
    connection.execute(f"SET memory_limit = '{memory}'")
    connection.execute(f"SET temp_directory = '{spill}'")
    connection.execute("SET preserve_insertion_order = false")
    connection.execute("SET enable_progress_bar = false")
    connection.execute("SET TimeZone = 'UTC'")


def _releases_view(connection: duckdb.DuckDBPyConnection, files: list[str]) -> None:
    listed = ", ".join("'" + path.replace("'", "''") + "'" for path in files)
    connection.execute(
        f"CREATE TEMP VIEW releases AS SELECT * FROM read_parquet([{listed}])"  # noqa: S608
    )


class Compiler:
    def __init__(
        self, warehouse: Warehouse, versioned: bool, workers: int, progress: Callable | None
    ) -> None:
        self.warehouse = warehouse
        self.versioned = versioned
        self.workers = workers
        self.progress = progress
        self.summary = CompileSummary()
        self.fast = not versioned and default_plan().omit <= {"id", "date", "tag"}

    def run(self) -> CompileSummary:
        files = self.warehouse.committed_files("releases")
        output = _Output(self.warehouse.compiled_dir)
        try:
            if files:
                self._compile_files(files, output)
        except BaseException:
            output.discard()  # the previous compiled table stays as it was
            raise
        output.finish()
        return self.summary

    def _compile_files(self, files: list[Path], output: _Output) -> None:
        spill = self.warehouse.root / "tmp"
        spill.mkdir(parents=True, exist_ok=True)
        folder = spill / f"partitions-{uuid.uuid4().hex[:8]}"  # read by the workers
        try:
            with duckdb.connect() as connection:
                _configure(connection, self.workers, DUCKDB_MEMORY, str(spill))
                _releases_view(connection, [str(path) for path in files])
                having = "TRUE"
                if self.fast:
                    self._write_simple(connection, output)
                    having = "count(*) > 1 OR NOT bool_and(simple)"
                connection.execute(
                    "CREATE TEMP TABLE merge_ocids AS SELECT ocid, count(*) AS releases "  # noqa: S608
                    f"FROM releases GROUP BY ocid HAVING {having}"
                )
                size = _merge_bytes(connection, files)
                partitions = max(self.workers, -(-size // PARTITION_BYTES))
                paths = _partition(connection, partitions, folder) if size else []
            self._merge(paths, output)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _merge(self, paths: list[str], output: _Output) -> None:
        """Merge the partitions in `workers` processes, each taking every other partition."""
        parts = max(1, min(self.workers, len(paths)))
        jobs = [
            _Job(
                paths[part::parts],
                str(output.staging / f"part-merge-{part}.parquet"),
                self.versioned,
            )
            for part in range(parts)
        ]
        if parts == 1:
            self._count(merge_partitions(jobs[0]))
            return
        with ProcessPoolExecutor(parts, mp_context=get_context("fork")) as pool:
            for future in as_completed([pool.submit(merge_partitions, job) for job in jobs]):
                self._count(future.result())

    def _count(self, result: tuple[int, int, int]) -> None:
        releases, compiled, errors = result
        self.summary.releases += releases
        self.summary.compiled += compiled
        self.summary.merged += releases
        self.summary.errors += errors
        if self.progress is not None:
            self.progress(self.summary)

    def _write_simple(self, connection: duckdb.DuckDBPyConnection, output: _Output) -> None:
        """Write the compiled releases of ocids with one simple release, all in DuckDB."""
        target = str(output.staging / "part-simple.parquet").replace("'", "''")
        # The release is its own compiled release (see ingest.is_simple): only the id, date and
        # tag change, so the JSON is assembled as text; tags keep their first occurrences in
        # order, as `_describe` does.
        query = f"""
            COPY (
                SELECT
                    ocid,
                    '{{"tag":["compiled"],"id":' || to_json(ocid || '-' || date)
                        || ',"date":' || to_json(date) || ',"ocid":' || to_json(ocid)
                        || CASE WHEN body = '{{}}' THEN '}}' ELSE ',' || body[2:] END
                        AS compiled_release,
                    NULL::VARCHAR AS versioned_release,
                    1::BIGINT AS release_count,
                    [release_id] AS release_ids,
                    date_utc AS first_release_date,
                    date_utc AS last_release_date,
                    coalesce(
                        list_filter(tag, lambda t, i: list_position(tag, t) = i), []::VARCHAR[]
                    ) AS tags,
                    [source] AS sources,
                    NULL::VARCHAR AS merge_error
                FROM releases
                WHERE simple AND ocid IN (
                    SELECT ocid FROM releases GROUP BY ocid HAVING count(*) = 1
                )
            ) TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {OUTPUT_ROWS})
        """  # noqa: S608 - our own file names, quoted
        written = connection.execute(query).fetchone()
        count = int(written[0]) if written else 0
        self.summary.releases += count
        self.summary.compiled += count


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (parsed JSON makes no cycles; its passes cost much)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compile_releases(
    warehouse_dir: Path | None = None,
    versioned: bool = False,
    workers: int | None = None,
    progress: Callable | None = None,
) -> CompileSummary:
    """Compile every ingested release into `compiled/compiled_releases/` (one row per ocid)."""
    started = time.monotonic()
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    warehouse = Warehouse(warehouse_dir)
    with warehouse.writing("compile"):
        warehouse.remove_leftovers(
            warehouse.compiled_dir.parent, f".{warehouse.compiled_dir.name}-"
        )
        for prefix in ("partitions-", "merge-ocids-"):  # merge-ocids: versions before 2026-12
            warehouse.remove_leftovers(warehouse.root / "tmp", prefix)
        summary = Compiler(warehouse, versioned, workers, progress).run()
    summary.seconds = time.monotonic() - started
    return summary
