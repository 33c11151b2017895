"""Compile the ingested releases into one compiled release per ocid.

Streaming, so memory stays flat however large the input. Two paths:
- an ocid with one "simple" release (flagged at ingest: no nulls, no empty containers, no
  repeated ids) compiles to the release itself with a new id, date and tag. DuckDB writes these
  rows itself, in parallel and spilling to disk past its memory limit, assembling each JSON
  from the stored body as text without parsing it;
- every other ocid is merged by `merge.Merger` (the OCDS merge rules, identical output to
  ocdsmerge) in a pool of worker processes, a bounded number of chunks in flight: DuckDB sorts
  just those releases by (ocid, date, ingest order) and Python reads the sorted stream in record
  batches, one ocid at a time.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import itertools
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

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

READ_BATCH = 5_000  # rows fetched from DuckDB at a time
CHUNK_RELEASES = 500  # releases sent to a worker at once (small: keeps every worker busy)
OUTPUT_ROWS = 10_000  # compiled releases per Parquet row group / file flush
DUCKDB_MEMORY = "256MB"  # with the Python side, compile stays under 1 GB at 1M releases
SORT_BYTES = 48 * 1024 * 1024  # JSON bodies sorted at a time (see `_sorted_groups`)


@dataclass
class CompileSummary:
    releases: int = 0
    compiled: int = 0
    merged: int = 0
    errors: int = 0
    seconds: float = 0.0


# -- workers -------------------------------------------------------------------------------------
_worker_merger: Merger | None = None
_worker_versioned: Merger | None = None


def _init_worker() -> None:
    global _worker_merger, _worker_versioned
    _worker_merger = Merger(default_plan())
    _worker_versioned = Merger(default_plan(), versioned=True)


def _release(row: tuple[str, str, str, list[str] | None, str, bool]) -> dict[str, Any]:
    ocid, release_id, date, tag, body, _ = row
    release = orjson.loads(body)
    release["ocid"] = ocid
    if release_id is not None:
        release["id"] = release_id
    release["date"] = date
    if tag is not None:
        release["tag"] = tag
    return release


def merge_groups(
    groups: list[list[tuple]], versioned: bool
) -> list[tuple[str | None, str | None, str | None]]:
    """Compile each group of rows (one ocid each): (compiled JSON, versioned JSON, error).

    A row is (ocid, release id, date, tag, body, simple)."""
    if _worker_merger is None:
        _init_worker()
    assert _worker_merger is not None and _worker_versioned is not None
    results: list[tuple[str | None, str | None, str | None]] = []
    for rows in groups:
        try:
            releases = [_release(row) for row in rows]
            simple = [bool(row[5]) for row in rows]
            compiled = orjson.dumps(_worker_merger.compiled(releases, simple)).decode()
            history = None
            if versioned:
                history = orjson.dumps(_worker_versioned.versioned_release(releases)).decode()
            results.append((compiled, history, None))
        except Exception as error:  # one broken ocid must not stop the run; it is reported
            results.append((None, None, f"{type(error).__name__}: {error}"))
    return results


def simple_compiled(ocid: str, date: str, body: str) -> str:
    """The compiled release of a single simple release, assembled without parsing its body."""
    head = '{"tag":["compiled"],"id":%s,"date":%s,"ocid":%s' % (  # noqa: UP031 - bytes-level assembly
        orjson.dumps(f"{ocid}-{date}").decode(),
        orjson.dumps(date).decode(),
        orjson.dumps(ocid).decode(),
    )
    return head + ("}" if body == "{}" else "," + body[1:])


# -- the run -------------------------------------------------------------------------------------
class _Output:
    """Compiled rows, in ocid order, flushed to Parquet in a fresh folder swapped in at the end."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.staging = target.with_name(f".{target.name}-{uuid.uuid4().hex[:8]}")
        self.staging.mkdir(parents=True)
        self.writer = pq.ParquetWriter(
            self.staging / "part-0.parquet", COMPILED_SCHEMA, compression="zstd"
        )
        self.rows: dict[str, list[Any]] = {name: [] for name in COMPILED_SCHEMA.names}

    def add(self, row: dict[str, Any]) -> None:
        for name, values in self.rows.items():
            values.append(row.get(name))
        if len(self.rows["ocid"]) >= OUTPUT_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows["ocid"]:
            self.writer.write_table(pa.Table.from_pydict(self.rows, schema=COMPILED_SCHEMA))
            self.rows = {name: [] for name in COMPILED_SCHEMA.names}

    def discard(self) -> None:
        self.writer.close()
        shutil.rmtree(self.staging, ignore_errors=True)

    def finish(self) -> None:
        self.flush()
        self.writer.close()
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


def _sorted_groups(connection: duckdb.DuckDBPyConnection, selection: str) -> Iterator[list[tuple]]:
    """The selected releases grouped by ocid, in (ocid, date, ingest order), range by range.

    The ocids are cut into ranges of about SORT_BYTES of body each and sorted one range at a
    time, so no sort has to spill the whole input (1.2 GB of bodies at 1M releases) under
    DuckDB's memory limit while its result streams out; the ranges follow each other, so the
    stream stays in ocid order.
    """
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE merge_ocids AS "  # noqa: S608 - our own expression
        f"SELECT ocid, sum(strlen(body)) AS size FROM releases WHERE {selection} GROUP BY ocid"
    )
    bounds = connection.execute(
        "SELECT ocid FROM (SELECT ocid, sum(size) OVER (ORDER BY ocid) AS running "
        "FROM merge_ocids) QUALIFY running // ? <> lag(running, 1, 0) OVER (ORDER BY ocid) // ? "
        "ORDER BY ocid",
        [SORT_BYTES, SORT_BYTES],
    ).fetchall()
    edges: list[str | None] = [None, *(row[0] for row in bounds), None]
    for low, high in itertools.pairwise(edges):
        # Every release of a selected ocid is selected, so the ocid list alone selects them
        # (repeating the selection here made DuckDB run out of memory at 1M releases).
        where = ["ocid IN (SELECT ocid FROM merge_ocids)"]
        parameters = []
        if low is not None:
            where.append("ocid >= ?")
            parameters.append(low)
        if high is not None:
            where.append("ocid < ?")
            parameters.append(high)
        # A relation, not execute(): DuckDB then streams the sorted rows instead of
        # materialising (and copying) the whole result before the first batch.
        query = (
            "SELECT ocid, release_id, date, tag, body, simple, source, "  # noqa: S608
            "epoch_us(date_utc) AS date_utc "
            f"FROM releases WHERE {' AND '.join(where)} ORDER BY ocid, date, seq"
        )
        yield from _groups(connection.sql(query, params=parameters).to_arrow_reader(READ_BATCH))


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
        with duckdb.connect() as connection, _no_gc():
            self._configure(connection)
            listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
            connection.execute(
                f"CREATE TEMP VIEW releases AS SELECT * FROM read_parquet([{listed}])"  # noqa: S608
            )
            merge_all = "TRUE"
            if self.fast:
                connection.execute(
                    "CREATE TEMP TABLE shared_ocids AS "
                    "SELECT ocid FROM releases GROUP BY ocid HAVING count(*) > 1"
                )
                self._write_simple(connection, output)
                merge_all = "NOT simple OR ocid IN (SELECT ocid FROM shared_ocids)"
            self._compile_stream(_sorted_groups(connection, merge_all), output)

    def _write_simple(self, connection: duckdb.DuckDBPyConnection, output: _Output) -> None:
        """Write the compiled releases of ocids with one simple release, all in DuckDB."""
        target = str(output.staging / "part-simple.parquet").replace("'", "''")
        # The JSON is assembled as text exactly as `simple_compiled` does; tags keep their first
        # occurrences in order, as `_describe` does.
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
                WHERE simple AND ocid NOT IN (SELECT ocid FROM shared_ocids)
            ) TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {OUTPUT_ROWS})
        """  # noqa: S608 - our own file names, quoted
        written = connection.execute(query).fetchone()
        count = int(written[0]) if written else 0
        self.summary.releases += count
        self.summary.compiled += count

    def _configure(self, connection: duckdb.DuckDBPyConnection) -> None:
        spill = self.warehouse.root / "tmp"
        spill.mkdir(parents=True, exist_ok=True)
        connection.execute(f"SET threads = {max(1, self.workers)}")
        connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        connection.execute(f"SET temp_directory = '{spill}'")
        connection.execute("SET preserve_insertion_order = false")
        connection.execute("SET enable_progress_bar = false")
        connection.execute("SET TimeZone = 'UTC'")

    def _compile_stream(self, groups: Iterator[list[tuple]], output: _Output) -> None:
        pool = None
        if self.workers > 1:
            pool = ProcessPoolExecutor(
                self.workers, mp_context=get_context("fork"), initializer=_init_worker
            )
        # Chunks in flight, in order; each holds its rows' provenance and the pending merge.
        pending: collections.deque[tuple[list[dict[str, Any]], Future | list]] = collections.deque()
        chunk: list[list[tuple]] = []
        described: list[dict[str, Any]] = []
        size = 0
        try:
            for rows in groups:
                self.summary.releases += len(rows)
                info = _describe(rows)
                if self.fast and len(rows) == 1 and rows[0][5]:
                    row = rows[0]
                    info["compiled_release"] = simple_compiled(row[0], row[2], row[4])
                    described.append(info)
                    continue
                info["_merge"] = len(chunk)
                chunk.append([row[:6] for row in rows])
                described.append(info)
                size += len(rows)
                if size >= CHUNK_RELEASES:
                    pending.append((described, self._submit(pool, chunk)))
                    chunk, described, size = [], [], 0
                    self._drain(pending, output, keep=2 * self.workers)
            pending.append((described, self._submit(pool, chunk)))
            self._drain(pending, output, keep=0)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    def _submit(self, pool: ProcessPoolExecutor | None, chunk: list[list[tuple]]) -> Future | list:
        if not chunk:
            return []
        self.summary.merged += sum(len(rows) for rows in chunk)
        if pool is None:
            return merge_groups(chunk, self.versioned)
        return pool.submit(merge_groups, chunk, self.versioned)

    def _drain(self, pending: collections.deque, output: _Output, keep: int) -> None:
        while len(pending) > keep:
            described, merged = pending.popleft()
            results = merged.result() if isinstance(merged, Future) else merged
            for info in described:
                index = info.pop("_merge", None)
                if index is not None:
                    compiled, history, error = results[index]
                    info.update(
                        compiled_release=compiled, versioned_release=history, merge_error=error
                    )
                    self.summary.errors += error is not None
                output.add(info)
                self.summary.compiled += 1
            if self.progress is not None:
                self.progress(self.summary)


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
    summary = Compiler(Warehouse(warehouse_dir), versioned, workers, progress).run()
    summary.seconds = time.monotonic() - started
    return summary
