"""Compile the ingested releases into one compiled release per ocid.

Streaming, so memory stays flat however large the input, in two passes over the releases:
- split: worker processes each read their share of the release files and write every row into
  one of N partitions by a hash of the ocid (uncompressed Arrow files in the warehouse's tmp
  folder), N chosen so a partition holds about PARTITION_BYTES of JSON;
- merge: the partitions are dealt into a few jobs per worker, taken as workers come free; a job
  sorts each of its partitions by (ocid, date, ingest order) and compiles it by the OCDS merge rules (identical output to ocdsmerge): in C
  (`native.compile_sorted`), or with `merge.Merger` for what the C merge leaves, for versioned
  releases and when the C module is off. Each job writes its own Parquet file; nothing but file
  names crosses between processes.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mutualise.pipeline import native
from mutualise.pipeline.arrow import int64_array
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

# As ingest writes release files (`ingest.RELEASE_PARQUET`): no dictionaries or statistics for JSON.
COMPILED_PARQUET = {
    "use_dictionary": ["tags", "sources"],
    "write_statistics": ["ocid", "release_count", "first_release_date", "last_release_date"],
    "data_page_version": "2.0",
}
READ_BATCH = 5_000  # rows turned into Python values at a time (the Python merge)
OUTPUT_ROWS = 10_000  # compiled releases per Parquet row group / file flush
PARTITION_BYTES = 32 * 1024 * 1024  # JSON bodies a worker sorts and merges at a time
MERGE_JOBS_PER_WORKER = 4


@dataclass
class CompileSummary:
    releases: int = 0
    compiled: int = 0
    merged: int = 0
    errors: int = 0
    seconds: float = 0.0


# -- merging, in each worker -------------------------------------------------------------------
ROW_COLUMNS = ["ocid", "release_id", "date", "tag", "body", "simple", "source", "date_utc"]
PARTITION_SCHEMA = pa.schema(
    [
        ("ocid", pa.string()),
        ("release_id", pa.string()),
        ("date", pa.string()),
        ("tag", pa.list_(pa.string())),
        ("body", pa.string()),
        ("simple", pa.bool_()),
        ("source", pa.string()),
        ("date_utc", pa.int64()),  # microseconds since the epoch (UTC)
        ("seq", pa.int64()),
    ]
)


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
    """The partitions one job merges, and where it writes them."""

    partitions: list[list[str]]  # each partition's Arrow files
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
        for paths in job.partitions:
            table = _read_partition(paths)
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


def _read_partition(paths: list[str]) -> pa.Table:
    """A partition's Arrow files as one table, mapped rather than read (no copy)."""
    batches = [batch for path in paths for batch in pa.ipc.open_stream(pa.memory_map(path))]
    return pa.Table.from_batches(batches, schema=PARTITION_SCHEMA)


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
        self.writer = pq.ParquetWriter(
            path, COMPILED_SCHEMA, compression="zstd", **COMPILED_PARQUET
        )
        self.rows: dict[str, list[Any]] = {name: [] for name in COMPILED_SCHEMA.names}
        self.pending: list[pa.Table] = []  # compiled in C, not yet a whole row group
        self.pending_rows = 0

    def add(self, row: dict[str, Any]) -> None:
        for name, values in self.rows.items():
            values.append(row.get(name))
        if len(self.rows["ocid"]) >= OUTPUT_ROWS:
            self.flush()

    def add_table(self, table: pa.Table) -> None:
        """Rows written in row groups of OUTPUT_ROWS whatever the tables' sizes (flatten shares
        the row groups between its workers)."""
        self.flush()
        self.pending.append(table)
        self.pending_rows += table.num_rows
        if self.pending_rows >= OUTPUT_ROWS:
            whole = pa.concat_tables(self.pending)
            cut = self.pending_rows - self.pending_rows % OUTPUT_ROWS
            self.writer.write_table(whole.slice(0, cut), row_group_size=OUTPUT_ROWS)
            self.pending = [whole.slice(cut)]
            self.pending_rows -= cut

    def flush(self) -> None:
        if self.rows["ocid"]:
            self.writer.write_table(pa.Table.from_pydict(self.rows, schema=COMPILED_SCHEMA))
            self.rows = {name: [] for name in COMPILED_SCHEMA.names}

    def close(self) -> None:
        self.flush()
        if self.pending_rows:
            self.writer.write_table(pa.concat_tables(self.pending), row_group_size=OUTPUT_ROWS)
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


def _body_bytes(files: list[Path]) -> int:
    """The releases' JSON bodies' size, from the Parquet metadata (no body is read)."""
    size = 0
    for path in files:
        metadata = pq.ParquetFile(path).metadata
        body = metadata.schema.names.index("body")
        for group in range(metadata.num_row_groups):
            size += metadata.row_group(group).column(body).total_uncompressed_size
    return size


@dataclass
class _Split:
    """Release files one worker splits into the partitions, and where it writes them."""

    files: list[str]
    folder: str
    partitions: int
    worker: int


def split_files(job: _Split) -> None:
    """Write the rows of the job's release files into `partitions` Arrow files by a hash of the
    ocid, so that every release of an ocid lands in one partition. Uncompressed Arrow IPC: the
    mergers map it without copying (compressing it cost more than the split itself)."""
    writers: dict[int, Any] = {}
    try:
        for path in job.files:
            releases = pq.ParquetFile(path)
            # A row group at a time (twice iter_batches' speed), on this thread: the Arrow pool's
            # threads cost CPU in forked workers.
            for group in range(releases.num_row_groups):
                columns = PARTITION_SCHEMA.names
                rows = releases.read_row_group(group, columns=columns, use_threads=False)
                _split_rows(_partition_rows(rows), job, writers)
    finally:
        for writer in writers.values():
            writer.close()


def _partition_rows(rows: pa.Table) -> pa.Table:
    columns = [rows.column(name) for name in PARTITION_SCHEMA.names]
    date_utc = PARTITION_SCHEMA.get_field_index("date_utc")
    micros = [chunk.view(pa.int64()) for chunk in columns[date_utc].chunks]  # as the merge reads
    columns[date_utc] = pa.chunked_array(micros, pa.int64())
    return pa.Table.from_arrays(columns, schema=PARTITION_SCHEMA)


def _split_rows(rows: pa.Table, job: _Split, writers: dict[int, Any]) -> None:
    parts = np.fromiter(
        (zlib.crc32(ocid.encode()) for ocid in rows.column(0).to_pylist()),
        dtype=np.uint32,
        count=rows.num_rows,
    ) % np.uint32(job.partitions)
    order = np.argsort(parts, kind="stable")  # stable: each partition keeps the rows' order
    bounds = np.searchsorted(parts[order], np.arange(job.partitions + 1))
    ordered = rows.take(int64_array(order))
    for part in np.flatnonzero(np.diff(bounds)).tolist():
        if part not in writers:
            target = Path(job.folder) / f"part-{part}-{job.worker}.arrow"
            writers[part] = pa.ipc.new_stream(str(target), PARTITION_SCHEMA)
        writers[part].write_table(ordered.slice(bounds[part], bounds[part + 1] - bounds[part]))


class Compiler:
    def __init__(
        self, warehouse: Warehouse, versioned: bool, workers: int, progress: Callable | None
    ) -> None:
        self.warehouse = warehouse
        self.versioned = versioned
        self.workers = workers
        self.progress = progress
        self.summary = CompileSummary()

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
        folder = self.warehouse.root / "tmp" / f"partitions-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        partitions = max(self.workers, -(-_body_bytes(files) // PARTITION_BYTES))
        try:
            with self._pool() as pool:
                splits = [
                    _Split(
                        [str(path) for path in files[part :: self.workers]],
                        str(folder),
                        partitions,
                        part,
                    )
                    for part in range(self.workers)
                ]
                _run(pool, split_files, splits, lambda _: None)
                paths = [
                    found
                    for part in range(partitions)
                    if (
                        found := [str(path) for path in sorted(folder.glob(f"part-{part}-*.arrow"))]
                    )
                ]
                # More jobs than workers, taken as workers come free, so that no worker idles at
                # the end while another merges; each job writes one file.
                count = min(len(paths), self.workers * MERGE_JOBS_PER_WORKER)
                jobs = [
                    _Job(
                        paths[job::count],
                        str(output.staging / f"part-{job}.parquet"),
                        self.versioned,
                    )
                    for job in range(count)
                ]
                _run(pool, merge_partitions, jobs, self._count)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _pool(self) -> contextlib.AbstractContextManager[ProcessPoolExecutor | None]:
        if self.workers == 1:
            return contextlib.nullcontext()
        return ProcessPoolExecutor(self.workers, mp_context=get_context("fork"))

    def _count(self, result: tuple[int, int, int]) -> None:
        releases, compiled, errors = result
        self.summary.releases += releases
        self.summary.compiled += compiled
        self.summary.merged += releases
        self.summary.errors += errors
        if self.progress is not None:
            self.progress(self.summary)


def _run(pool: ProcessPoolExecutor | None, task: Callable, jobs: list, done: Callable) -> None:
    """Run `task` on each job, in the pool's processes (or here, without a pool)."""
    if pool is None:
        for job in jobs:
            done(task(job))
        return
    for future in as_completed([pool.submit(task, job) for job in jobs]):
        done(future.result())


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
