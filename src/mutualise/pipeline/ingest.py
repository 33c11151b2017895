"""Ingest OCDS files into the warehouse's raw release table.

Reads release packages, record packages, records, bare releases, JSON Lines and concatenated
JSON, plain, gzipped or zipped, and whole directories. OCDS 1.0 is upgraded to 1.1. Each release is
checked; a bad one goes to the quarantine table with its source, position and reason, and the run
goes on.

Idempotent and resumable: releases are written in batches, each an atomically renamed Parquet
file listed in `raw/_manifest.json`; a Parquet file the manifest does not list is a half-written
batch and is deleted on the next run. Files are recorded by SHA-256 (unchanged files are skipped),
with how many of their values were committed, so an interrupted file resumes where it stopped.
Releases are deduplicated on (ocid, release id, date); a duplicate with different content is kept
out of the release table and quarantined as a conflict, so nothing is lost silently.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import gc
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mutualise.pipeline import native
from mutualise.pipeline.arrow import int64_array, int64_values, repeated_string
from mutualise.pipeline.dates import parse_datetime, to_micros
from mutualise.pipeline.jsonio import (
    READ_ERRORS,
    BadInput,
    FileSlice,
    Position,
    block_lines,
    expand_paths,
    iter_values,
    jsonl_blocks,
    parse_line,
    unreadable,
)
from mutualise.pipeline.upgrade import minor_version, upgrade_release
from mutualise.pipeline.warehouse import Warehouse

BATCH_SIZE = 10_000  # rows held in memory before a batch is committed
PARALLEL_MIN_BYTES = 4 * 1024 * 1024  # JSON Lines files (on disk) this big are parsed by workers
CHUNK_BYTES = 8 * 1024 * 1024  # bytes of JSON Lines given to a worker at once (a release file each)
HASH_VERSION = 2  # how content_hash is computed (see `examine`)

# Fields held in their own columns; the rest of a release is stored as its `body`.
KEY_FIELDS = ("ocid", "id", "date", "tag")

RELEASE_SCHEMA = pa.schema(
    [
        ("ocid", pa.string()),
        ("release_id", pa.string()),
        ("date", pa.string()),
        ("date_utc", pa.timestamp("us", tz="UTC")),
        ("tag", pa.list_(pa.string())),
        ("body", pa.string()),
        ("simple", pa.bool_()),
        ("content_hash", pa.string()),
        ("ocds_version", pa.string()),
        ("source", pa.string()),
        ("source_file", pa.string()),
        ("position", pa.string()),
        ("line", pa.int64()),
        ("seq", pa.int64()),
    ]
)

# How release files are written: a fifth faster than pyarrow's defaults and a little smaller.
# Dictionaries only where values repeat (pyarrow tries one on every column, then gives up on the
# bodies and hashes); no min/max statistics of bodies; version 2 data pages.
RELEASE_PARQUET = {
    "use_dictionary": ["ocds_version", "source", "source_file", "tag"],
    "write_statistics": [name for name in RELEASE_SCHEMA.names if name != "body"],
    "data_page_version": "2.0",
}

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("source_file", pa.string()),
        ("position", pa.string()),
        ("line", pa.int64()),
        ("byte_offset", pa.int64()),
        ("item", pa.int64()),
        ("ocid", pa.string()),
        ("release_id", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
        ("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass
class IngestSummary:
    files_read: int = 0
    releases_read: int = 0
    releases_new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    files_skipped: int = 0
    files_total: int = 0
    current_file: str = ""
    reasons: dict[str, int] = field(default_factory=dict)
    # Files (or zip members) refused or read only in part: unreadable, truncated, unsafe.
    file_problems: list[str] = field(default_factory=list)


class IngestError(Exception):
    """Input that cannot be ingested at all (such as a path that does not exist)."""


Progress = Callable[[IngestSummary], None]


# -- checking one release ------------------------------------------------------------------------
class Rejected(Exception):
    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def check_release(release: Any) -> datetime:
    """Raise Rejected with a reason if the release cannot be used; return its date in UTC."""
    if not isinstance(release, dict):
        raise Rejected("not a JSON object", "not_object")
    ocid = release.get("ocid")
    if not isinstance(ocid, str) or not ocid.strip():
        raise Rejected("no ocid", "no_ocid")
    # A missing release id is tolerated (Public Contracts Scotland omits it): it is not needed to
    # merge, and such releases are told apart by their content hash instead.
    date = parse_datetime(release.get("date"))
    if date is None:
        raise Rejected(f"impossible date: {release.get('date')!r}", "impossible_date")
    seen: set[Any] = set()
    for party in release.get("parties") or []:
        party_id = party.get("id") if isinstance(party, dict) else None
        key = repr(party_id)
        if party_id is not None and key in seen:
            raise Rejected(f"duplicate party id {party_id!r} in release", "duplicate_party_id")
        seen.add(key)
    return date


def is_simple(release: dict[str, Any], body: bytes) -> bool:
    """Whether the compiled release of this release alone is the release itself.

    True when it has no nulls, no empty objects or arrays and no array with a repeated `id`:
    then merging changes nothing, and `compile` can skip the merge for one-release ocids.
    """
    if b"null" in body or b"{}" in body or b"[]" in body:
        return False
    return not _has_repeated_ids(release)


def _has_repeated_ids(value: dict[str, Any]) -> bool:
    for child in value.values():
        kind = type(child)
        if kind is dict:
            if _has_repeated_ids(child):
                return True
        elif kind is list and child and type(child[0]) is dict:
            ids: set[str] = set()
            for item in child:
                if type(item) is not dict:
                    return True
                if "id" in item:
                    key = str(item["id"])  # ocdsmerge compares ids as strings
                    if key in ids:
                        return True
                    ids.add(key)
                if _has_repeated_ids(item):
                    return True
    return False


# -- turning values into releases ----------------------------------------------------------------
def _is_linked(release: Any) -> bool:
    return isinstance(release, dict) and set(release) <= {"url", "date", "tag"}


def releases_in(value: Any) -> Iterator[tuple[int | None, Any, str]]:
    """The releases in a package, record or release, upgraded to 1.1: (index, release, version)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            for _, release, version in releases_in(item):
                yield index, release, version
        return
    if not isinstance(value, dict):
        yield None, value, ""
        return
    version = minor_version(value)
    if "records" in value:
        for index, record in enumerate(value["records"] or []):
            for _, release, record_version in _record_releases(record, version):
                yield index, release, record_version
    elif "releases" in value and "ocid" in value:
        yield from _record_releases(value, version)
    elif "releases" in value:
        for index, release in enumerate(value["releases"] or []):
            yield index, _upgraded(release, version), version
    else:
        yield None, _upgraded(value, version), version


def _upgraded(release: Any, version: str) -> Any:
    if version == "1.0" and isinstance(release, dict):
        return upgrade_release(release)
    return release


def _record_releases(record: Any, package_version: str) -> Iterator[tuple[int | None, Any, str]]:
    """A record's embedded releases; its compiled release if it only links to its releases."""
    if not isinstance(record, dict):
        yield None, record, package_version
        return
    version = minor_version(record) if package_version != "1.1" else "1.1"
    releases = record.get("releases") or []
    embedded = [release for release in releases if not _is_linked(release)]
    if embedded:
        for index, release in enumerate(embedded):
            yield index, _upgraded(release, version), version
    elif isinstance(record.get("compiledRelease"), dict):
        yield None, _upgraded(record["compiledRelease"], version), version
    else:
        yield None, {"ocid": record.get("ocid"), "_record": "linked releases only"}, version


# -- examining one release (in a worker process or in the main one) -----------------------------
# An examined release: (True, ocid, release_id, date, date_utc, tag, body, simple, digest, raw_id)
# or a rejected one: (False, reason, code, raw, ocid, release_id).
Examined = tuple


# What a value of a shape OCDS does not allow can raise deep in the checks or the 1.0 upgrade (a
# number where a list belongs; nesting deeper than orjson writes, 255 levels, or Python recurses):
# such a value is quarantined with the error, so that one of them never stops a run.
SHAPE_ERRORS = (TypeError, AttributeError, KeyError, ValueError, RecursionError)


def examine(release: Any, version: str, legacy_hash: bool = False) -> Examined:
    """`_examine`, with a release of an impossible shape rejected instead of raising."""
    try:
        return _examine(release, version, legacy_hash)
    except SHAPE_ERRORS as error:
        return _unusable(release, error)


def _unusable(value: Any, error: BaseException) -> Examined:
    if isinstance(error, RecursionError) or "Recursion limit" in str(error):
        reason, code = "nested too deeply to store", "too_deep"
    else:
        reason, code = f"not a usable OCDS release ({type(error).__name__}: {error})", "bad_shape"
    ocid = value.get("ocid") if isinstance(value, dict) else None
    raw_id = value.get("id") if isinstance(value, dict) else None
    return (
        False,
        reason,
        code,
        _dump(value),
        ocid if isinstance(ocid, str) else None,
        str(raw_id) if isinstance(raw_id, str | int | float) else None,
    )


def _examine(release: Any, version: str, legacy_hash: bool = False) -> Examined:
    """Check one release and turn it into the values of its row, without touching shared state.

    The body (the release without its key fields) is serialised once, with sorted keys, and the
    content hash is taken over it and the key fields, so the same release published with another
    key order or layout has the same hash. Warehouses written before this scheme
    (`legacy_hash`) hash the whole release serialised with sorted keys, as they always did.
    """
    try:
        if isinstance(release, dict) and "_record" in release:
            raise Rejected("record has only linked releases and no compiledRelease", "linked_only")
        date_utc = check_release(release)
    except Rejected as rejected:
        ocid = release.get("ocid") if isinstance(release, dict) else None
        raw = release.get("id") if isinstance(release, dict) else None
        return (
            False,
            rejected.reason,
            rejected.code,
            _dump(release),
            ocid if isinstance(ocid, str) else None,
            str(raw) if raw is not None else None,
        )
    raw_id = release.get("id")
    release_id = None if raw_id is None else str(raw_id)
    body_dict = {k: v for k, v in release.items() if k not in KEY_FIELDS}
    body = orjson.dumps(body_dict, option=orjson.OPT_SORT_KEYS)
    tag = release.get("tag")
    if legacy_hash:
        content = orjson.dumps(release, option=orjson.OPT_SORT_KEYS)
    else:
        content = body + b"\n" + orjson.dumps([release["ocid"], raw_id, release["date"], tag])
    digest = hashlib.blake2b(content, digest_size=16).hexdigest()
    return (
        True,
        release["ocid"],
        release_id,
        release["date"],
        to_micros(date_utc),
        [str(t) for t in tag] if isinstance(tag, list) else ([str(tag)] if tag else None),
        body,
        (raw_id is None or isinstance(raw_id, str)) and is_simple(body_dict, body),
        digest,
        raw_id,
    )


def examine_value(
    document: Any, legacy_hash: bool = False
) -> list[tuple[int | None, Examined, str]]:
    """Every release of a top-level value, examined: (index, examined release, version)."""
    examined: list[tuple[int | None, Examined, str]] = []
    try:
        for index, release, version in releases_in(document):
            examined.append((index, examine(release, version, legacy_hash), version))
    except SHAPE_ERRORS as error:  # a package or record of an impossible shape
        examined.append((None, _unusable(document, error), ""))
    return examined


# A value read from JSON Lines: (position, examined releases) or BadInput.
LineResult = tuple[Position, list[tuple[int | None, Examined, str]]] | BadInput

# The releases of a block examined by a worker: the release table's columns but `source` and
# `seq` (the main process adds them), and what the main process needs to deduplicate them.
BLOCK_SCHEMA = pa.schema(
    [
        *(column for column in RELEASE_SCHEMA if column.name not in {"source", "seq"}),
        ("byte_offset", pa.int64()),
        ("item", pa.int64()),
        ("value", pa.int64()),  # the value's number within the block (for resuming)
        ("key", pa.int64()),  # the deduplication key (`_release_key`)
        ("raw_id", pa.string()),  # the release's `id` as JSON (for a conflict's quarantine row)
    ]
)


@dataclass
class Block:
    """A block of JSON Lines, examined by a worker.

    The releases come as an Arrow table in file order; with a `Staging`, the worker has written
    them to a release file of their own (`staged`, committed as it is unless some must be left
    out) and the table holds only what deduplication needs (KEY_COLUMNS). Unreadable values and
    refused releases come as rows, each with its value's number.
    """

    values: int  # non-empty lines: each is one value
    releases: pa.Table
    refused: list[tuple[int, BadInput | tuple[Position, Examined]]]
    staged: str | None = None
    seq_end: int = 0  # every release of the block has a smaller seq


@dataclass(frozen=True)
class Staging:
    """Where a worker writes a block's releases, and what it adds to them."""

    folder: str
    source: str
    seq_base: int  # a release's seq: seq_base + its line's byte offset + its place in the line


KEY_COLUMNS = ["value", "key", "content_hash", "byte_offset", "item", "raw_id"]


def examine_block(args: tuple) -> Block:
    """Parse and examine a block of JSON Lines (in a worker): args are (label, block, byte offset,
    first line number, legacy hash, and optionally a `Staging`).

    The C fast path (`native.examine_block`) reads the plain values and returns their rows as
    Arrow buffers; the values it leaves (and every value, when it is off) are read here. Both
    give the same rows (tests/pipeline/test_native.py)."""
    label, block, start, first_line, legacy_hash, *staging = args
    data = block.read() if isinstance(block, FileSlice) else block
    columns: dict[str, list[Any]] = {name: [] for name in BLOCK_SCHEMA.names}
    refused: list[tuple[int, BadInput | tuple[Position, Examined]]] = []
    fast = None if legacy_hash else native.examine_block(data, label, start, first_line)
    with _no_gc():
        if fast is None:
            count, values, tables = 0, _python_values(data, start, first_line), []
        else:
            count, values, tables = fast[0], iter(fast[2]), [native.block_table(fast[1])]
        for value, number, offset, text, item, version in values:
            if item is None:
                where = Position(label, number, offset)
                _examine_line(columns, refused, text, where, value, legacy_hash)
            else:
                where = Position(label, number, offset, item)
                _examine_item(columns, refused, text, where, value, version, legacy_hash)
            count = max(count, value + 1)
        if columns["ocid"] or not tables:
            # Only when there are rows: converting Python values makes pyarrow import pandas
            # (0.2 s in each new worker process).
            tables.append(pa.Table.from_pydict(columns, schema=BLOCK_SCHEMA))
    table = _in_file_order(tables)
    if not staging:
        return Block(count, table, refused)
    seq_end = staging[0].seq_base + start + len(data)
    staged = _stage(table, staging[0]) if table.num_rows else None
    return Block(count, table.select(KEY_COLUMNS), refused, staged, seq_end)


def _stage(table: pa.Table, staging: Staging) -> str:
    """Write a block's releases to a release file of its own, under a name no commit lists yet.
    Seq numbers come from byte offsets, so a worker needs no count from the blocks before: a
    release's is its line's offset plus its place among the line's releases (fewer than the
    line's bytes, so the numbers never collide)."""
    columns = {
        **{name: table[name] for name in table.column_names},
        "source": repeated_string(staging.source, table.num_rows),
        "seq": int64_array(staging.seq_base + _seq_offsets(table)),
    }
    releases = pa.Table.from_arrays(
        [columns[name] for name in RELEASE_SCHEMA.names], schema=RELEASE_SCHEMA
    )
    target = Path(staging.folder) / f".staged-{uuid.uuid4().hex}.parquet"
    pq.write_table(releases, target, compression="zstd", **RELEASE_PARQUET)
    return str(target)


def _seq_offsets(table: pa.Table) -> np.ndarray:
    """Each row's line offset plus its place among its line's rows (the table is in file order;
    a record's releases share an item number, so that cannot serve)."""
    values = int64_values(table["value"])
    rows = np.arange(len(values))
    firsts = np.flatnonzero(np.diff(values, prepend=-1))  # each line's first row
    places = rows - np.repeat(firsts, np.diff(np.append(firsts, len(values))))
    return int64_values(table["byte_offset"]) + places


def _in_file_order(tables: list[pa.Table]) -> pa.Table:
    """The rows read in C, then those read in Python, as one table in file order: by value, then
    by item (a package's releases may be read partly in C, partly in Python)."""
    if len(tables) == 1:
        return tables[0]  # C and Python each add a block's rows in file order
    table = pa.concat_tables(tables)
    return table.take(pc.sort_indices(table, [("value", "ascending"), ("item", "ascending")]))


def _python_values(
    data: bytes, start: int, first_line: int
) -> Iterator[tuple[int, int, int, bytes, None, None]]:
    """The non-empty lines of a block as `native.examine_block` leaves them: (value number, line
    number, byte offset, stripped line, None, None)."""
    value = 0
    offset = start
    for number, line in enumerate(data.split(b"\n"), first_line):
        text = line.strip()
        if text:
            yield value, number, offset, text, None, None
            value += 1
        offset += len(line) + 1


def _examine_line(
    columns: dict[str, list[Any]],
    refused: list[tuple[int, BadInput | tuple[Position, Examined]]],
    text: bytes,
    where: Position,
    value: int,
    legacy_hash: bool,
) -> None:
    parsed = parse_line(text, where.file, where.line or 0, where.offset or 0)
    if isinstance(parsed, BadInput):
        refused.append((value, parsed))
        return
    for index, examined, version in examine_value(parsed[1], legacy_hash):
        release_where = Position(where.file, where.line, where.offset, index)
        _add_examined(columns, refused, release_where, examined, version, value)


def _examine_item(
    columns: dict[str, list[Any]],
    refused: list[tuple[int, BadInput | tuple[Position, Examined]]],
    text: bytes,
    where: Position,
    value: int,
    version: str,
    legacy_hash: bool,
) -> None:
    """One release of a package whose other releases were read in C (the package parsed, so its
    release does too)."""
    examined = examine(_upgraded(orjson.loads(text), version), version, legacy_hash)
    _add_examined(columns, refused, where, examined, version, value)


def _add_examined(
    columns: dict[str, list[Any]],
    refused: list[tuple[int, BadInput | tuple[Position, Examined]]],
    where: Position,
    examined: Examined,
    version: str,
    value: int,
) -> None:
    if examined[0]:
        _add_release(columns, where, examined, version, value)
    else:
        refused.append((value, (where, examined)))


def _add_release(
    columns: dict[str, list[Any]], where: Position, release: Examined, version: str, value: int
) -> None:
    _append_release(columns, where, release, version)
    _, ocid, release_id, date, _, _, _, _, digest, raw_id = release
    columns["byte_offset"].append(where.offset)
    columns["item"].append(where.index)
    columns["value"].append(value)
    columns["key"].append(_release_key(ocid, release_id, date, digest))
    columns["raw_id"].append(None if raw_id is None else orjson.dumps(raw_id).decode())


def _append_release(
    columns: dict[str, list[Any]], where: Position, release: Examined, version: str
) -> None:
    """Append the release table's columns of one examined release (not source and seq)."""
    _, ocid, release_id, date, date_utc, tag, body, simple, digest, _ = release
    columns["ocid"].append(ocid)
    columns["release_id"].append(release_id)
    columns["date"].append(date)
    columns["date_utc"].append(date_utc)
    columns["tag"].append(tag)
    columns["body"].append(body)
    columns["simple"].append(simple)
    columns["content_hash"].append(digest)
    columns["ocds_version"].append(version or None)
    columns["source_file"].append(where.file)
    columns["position"].append(where.describe())
    columns["line"].append(where.line)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsed JSON makes no cycles, and its passes over
    millions of short-lived dicts otherwise cost more than the parsing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- the run -------------------------------------------------------------------------------------
class _Batch:
    def __init__(self) -> None:
        self.releases: dict[str, list[Any]] = {name: [] for name in RELEASE_SCHEMA.names}
        self.tables: list[pa.Table] = []  # releases that came as tables
        self.staged: list[tuple[str, int]] = []  # release files written by workers, and their rows
        self.quarantine: list[dict[str, Any]] = []
        self.rows = 0

    def __len__(self) -> int:
        return self.rows + sum(rows for _, rows in self.staged) + len(self.quarantine)

    def add_staged(self, path: str, rows: int) -> None:
        self.staged.append((path, rows))

    def add_table(self, table: pa.Table) -> None:
        self._seal()
        self.tables.append(table)
        self.rows += table.num_rows

    def release_table(self) -> pa.Table:
        self._seal()
        return pa.concat_tables(self.tables)

    def _seal(self) -> None:
        """Turn the rows gathered one by one into a table, keeping the order rows came in."""
        if self.releases["ocid"]:
            self.tables.append(pa.Table.from_pydict(self.releases, schema=RELEASE_SCHEMA))
            self.releases = {name: [] for name in RELEASE_SCHEMA.names}


class _Digests:
    """The content hashes of the releases seen so far, numbered in the order they came, so that
    `Ingester.known` holds a number per release rather than a string."""

    def __init__(self) -> None:
        self.chunks: list[Any] = []  # Arrow arrays, or lists of strings for releases one by one
        self.starts: list[int] = []
        self.count = 0

    def add(self, digests: Any) -> int:
        """Number the digests; return the first one's number."""
        first = self.count
        self.chunks.append(digests)
        self.starts.append(first)
        self.count += len(digests)
        return first

    def add_one(self, digest: str) -> int:
        if not self.chunks or not isinstance(self.chunks[-1], list):
            self.add([])
        self.chunks[-1].append(digest)
        self.count += 1
        return self.count - 1

    def __getitem__(self, number: int) -> str:
        chunk = bisect.bisect_right(self.starts, number) - 1
        value = self.chunks[chunk][number - self.starts[chunk]]
        return value if isinstance(value, str) else value.as_py()


class Ingester:
    def __init__(
        self,
        warehouse: Warehouse,
        source: str | None,
        progress: Progress | None,
        workers: int = 1,
    ) -> None:
        self.warehouse = warehouse
        self.source = source
        self.progress = progress
        self.summary = IngestSummary()
        self.batch = _Batch()
        self.manifest = warehouse.read_manifest()
        self.pending_files: dict[str | Future[str], dict[str, Any]] = {}  # by digest
        self.known: dict[int, int] = {}  # deduplication key -> number of its content hash
        self.digests = _Digests()
        self.now = to_micros(datetime.now(UTC))
        self.last_report = 0.0
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.committer = ThreadPoolExecutor(1, thread_name_prefix="ingest-commit")
        self.hasher = ThreadPoolExecutor(1, thread_name_prefix="ingest-digest")
        self.committing: Future[None] | None = None
        # A warehouse that already has releases hashed the old way keeps that way.
        if "hash_version" not in self.manifest:
            self.manifest["hash_version"] = 1 if self.manifest["batches"] else HASH_VERSION
        self.legacy_hash = self.manifest["hash_version"] == 1

    # setup
    def prepare(self) -> None:
        self._discard_uncommitted()
        self._load_known_releases()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        self.committer.shutdown(wait=True)  # a commit under way ends whole (it is atomic anyway)
        self.hasher.shutdown(wait=True, cancel_futures=True)

    def _discard_uncommitted(self) -> None:
        """Delete Parquet files no committed batch lists: the remains of an interrupted run."""
        listed = {
            name
            for batch in self.manifest["batches"]
            for name in batch.values()
            if isinstance(name, str)
        }
        for folder in (self.warehouse.releases_dir, self.warehouse.quarantine_dir):
            if folder.exists():
                for path in folder.iterdir():
                    if path.name not in listed:
                        path.unlink()

    def _load_known_releases(self) -> None:
        files = self.warehouse.committed_files("releases")
        if not files:
            return
        with duckdb.connect() as connection:
            listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
            query = f"SELECT ocid, release_id, date, content_hash FROM read_parquet([{listed}])"  # noqa: S608
            reader = connection.sql(query).to_arrow_reader(200_000)
            for chunk in reader:
                columns = chunk.to_pydict()
                keys = [
                    _release_key(ocid, release_id, date, digest)
                    for ocid, release_id, date, digest in zip(
                        columns["ocid"],
                        columns["release_id"],
                        columns["date"],
                        columns["content_hash"],
                        strict=True,
                    )
                ]
                first = self.digests.add(chunk.column("content_hash"))
                self.known.update(zip(keys, range(first, first + len(keys)), strict=True))

    # files
    def ingest_file(self, path: Path) -> None:
        digest = self._digest(path)
        state = self.manifest["files"].get(digest, {}) if isinstance(digest, str) else {}
        if state.get("complete"):
            self.summary.files_skipped += 1
            return
        done = int(state.get("items_done", 0))
        # A file read in blocks numbers its releases from seq_base (see `Staging`): a run that
        # resumes it keeps its numbers, unless other releases have been numbered since.
        resumes = done and state.get("seq_end") == self.manifest["next_seq"]
        record: dict[str, Any] = {
            "path": str(path),
            "source": self.source or _default_source(path),
            "size": path.stat().st_size,
            "items_done": done,
            "complete": False,
            "seq_base": state["seq_base"] if resumes else int(self.manifest["next_seq"]),
        }
        self.summary.current_file = str(path)
        number = 0  # values read so far; the first `done` were committed by an earlier run
        for item in self._values(path, record):
            if isinstance(item, Block):
                self._take_block(item, record, skip=max(0, done - number))
                number += item.values
            else:
                if number >= done:
                    self._take(item, record)
                number += 1
            record["items_done"] = max(done, number)
            self.pending_files[digest] = record
            # A commit names the file by its digest: while that is being worked out, the batch
            # (references to the workers' files, mostly) grows instead of the workers waiting.
            if len(self.batch) >= BATCH_SIZE and (isinstance(digest, str) or digest.done()):
                self.commit()
        record["complete"] = True
        record["finished_at"] = datetime.now(UTC).isoformat()
        self.pending_files[digest] = record
        self.summary.files_read += 1
        self._report(force=True)

    def _digest(self, path: Path) -> str | Future[str]:
        """The file's SHA-256, which names it in the manifest. A big file (read by the workers)
        of a size no file read before has is new whatever its digest: that is worked out on a
        thread while the file is read (a commit waits for it), not before."""
        size = path.stat().st_size
        seen = any(state.get("size") == size for state in self.manifest["files"].values())
        if seen or self.workers < 2 or size < PARALLEL_MIN_BYTES:
            return _file_digest(path)
        return self.hasher.submit(_file_digest, path)

    def _values(self, path: Path, record: dict[str, Any]) -> Iterator[LineResult | Block]:
        """The file's values, each examined; big JSON Lines files in blocks, by workers, which
        write the releases of each block to a release file of its own (`Staging`)."""
        chunks = (
            jsonl_blocks(path, CHUNK_BYTES)
            if self.workers > 1 and record["size"] >= PARALLEL_MIN_BYTES
            else None
        )
        if chunks is None:
            for value in iter_values(path):
                if isinstance(value, BadInput):
                    yield value
                else:
                    yield value[0], examine_value(value[1], self.legacy_hash)
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("fork"))
        pending: collections.deque[Future[Block]] = collections.deque()
        label = str(path)
        failure = None
        self.warehouse.releases_dir.mkdir(parents=True, exist_ok=True)
        staging = Staging(str(self.warehouse.releases_dir), record["source"], record["seq_base"])
        last: tuple[int, bytes | FileSlice] = (1, b"")  # the last block: (its first line, it)
        try:
            for label, data, start, first_line in chunks:
                task = (label, data, start, first_line, self.legacy_hash, staging)
                pending.append(self.pool.submit(examine_block, task))
                last = (first_line, data)
                while len(pending) > 2 * self.workers:
                    yield pending.popleft().result()
        except READ_ERRORS as error:  # a truncated or corrupt gzip: keep what was read, say so
            lines = last[0] - 1 + block_lines(last[1])
            failure = unreadable(label, error, f"line {lines:,}")
        while pending:
            yield pending.popleft().result()
        if failure is not None:
            yield failure

    def _take(self, value: LineResult, record: dict[str, Any]) -> None:
        if isinstance(value, BadInput):
            self._quarantine(
                record, value.position, value.reason, value.code, value.excerpt, None, None
            )
            if value.code != "malformed_json":  # the file itself, not one value in it
                self.summary.file_problems.append(f"{value.position.file}: {value.reason}")
            return
        position, examined = value
        for index, release, version in examined:
            where = Position(position.file, position.line, position.offset, index)
            self.summary.releases_read += 1
            if release[0]:
                self._keep(record, where, release, version)
            else:
                self._refuse(record, where, release)

    def _refuse(self, record: dict[str, Any], where: Position, release: Examined) -> None:
        """Quarantine a release `examine` rejected."""
        _, reason, code, raw, ocid, release_id = release
        self._quarantine(record, where, reason, code, raw, ocid, release_id)

    def _take_block(self, block: Block, record: dict[str, Any], skip: int) -> None:
        """Take a worker's block; its first `skip` values were committed by an earlier run."""
        for value, refused in block.refused:
            if value < skip:
                continue
            if isinstance(refused, BadInput):
                self._take(refused, record)
            else:
                self.summary.releases_read += 1
                self._refuse(record, *refused)
        keys = block.releases
        rows = np.arange(keys.num_rows)
        if skip:
            rows = rows[int64_values(keys["value"]) >= skip]
        self.summary.releases_read += len(rows)
        kept, conflicts = self._deduplicate(keys, rows)
        self._take_staged(block, kept, conflicts, record)
        self.summary.releases_new += len(kept)
        self.manifest["next_seq"] = max(int(self.manifest["next_seq"]), block.seq_end)
        record["seq_end"] = self.manifest["next_seq"]
        self._report()

    def _deduplicate(self, keys: pa.Table, rows: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """Of the block's `rows`, those not seen before, and those with the key of an earlier
        release but other content (to quarantine)."""
        known = self.known
        key_list = keys["key"].to_pylist()
        every = len(rows) == len(key_list)
        if every and known.keys().isdisjoint(key_list) and len(set(key_list)) == len(key_list):
            first = self.digests.add(keys["content_hash"])  # the usual case
            known.update(zip(key_list, range(first, first + len(key_list)), strict=True))
            return rows, []
        digests = keys["content_hash"].to_pylist()
        kept: list[int] = []
        conflicts: list[int] = []
        for row in rows.tolist():  # in file order: the first is kept
            key, digest = key_list[row], digests[row]
            earlier = known.get(key)
            if earlier is None:
                known[key] = self.digests.add_one(digest)
                kept.append(row)
                continue
            self.summary.duplicates += 1
            if self.digests[earlier] != digest:
                conflicts.append(row)
        return np.array(kept, dtype=np.int64), conflicts

    def _take_staged(
        self, block: Block, kept: np.ndarray, conflicts: list[int], record: dict[str, Any]
    ) -> None:
        """Commit the worker's release file as it is when every row is kept (the usual case);
        otherwise keep its rows that are, and quarantine the conflicts."""
        if block.staged is None:
            return
        if len(kept) == block.releases.num_rows:
            self.batch.add_staged(block.staged, len(kept))
            return
        stored = pq.ParquetFile(block.staged).read()
        staged = pa.Table.from_arrays(stored.columns, schema=RELEASE_SCHEMA)
        os.unlink(block.staged)
        if len(kept):
            self.batch.add_table(staged.take(int64_array(kept)))
        for row in conflicts:
            whole = {
                **staged.slice(row, 1).to_pylist()[0],
                **block.releases.slice(row, 1).to_pylist()[0],
            }
            self._quarantine_conflict(record, whole)

    def _quarantine_conflict(self, record: dict[str, Any], row: dict[str, Any]) -> None:
        raw_id = None if row["raw_id"] is None else orjson.loads(row["raw_id"])
        where = Position(row["source_file"], row["line"], row["byte_offset"], row["item"])
        self._quarantine(
            record,
            where,
            CONFLICT_REASON,
            "conflicting_duplicate",
            _whole_release(row["body"], row["ocid"], row["date"], raw_id, row["tag"]),
            row["ocid"],
            row["release_id"],
        )

    def _keep(
        self, record: dict[str, Any], where: Position, release: Examined, version: str
    ) -> None:
        _, ocid, release_id, date, _, tag, body, _, digest, raw_id = release
        key = _release_key(ocid, release_id, date, digest)
        earlier = self.known.get(key)
        if earlier is not None:
            self.summary.duplicates += 1
            if self.digests[earlier] != digest:
                raw = _whole_release(body, ocid, date, raw_id, tag)
                self._quarantine(
                    record, where, CONFLICT_REASON, "conflicting_duplicate", raw, ocid, release_id
                )
            return
        self.known[key] = self.digests.add_one(digest)
        columns = self.batch.releases
        _append_release(columns, where, release, version)
        columns["source"].append(record["source"])
        columns["seq"].append(self._next_seq())
        self.batch.rows += 1
        self.summary.releases_new += 1
        self._report()

    def _next_seq(self) -> int:
        seq = int(self.manifest["next_seq"])
        self.manifest["next_seq"] = seq + 1
        return seq

    def _quarantine(
        self,
        record: dict[str, Any],
        where: Position,
        reason: str,
        code: str,
        raw: str,
        ocid: str | None,
        release_id: str | None,
    ) -> None:
        self.batch.quarantine.append(
            {
                "source": record["source"],
                "source_file": where.file,
                "position": where.describe(),
                "line": where.line,
                "byte_offset": where.offset,
                "item": where.index,
                "ocid": ocid,
                "release_id": release_id,
                "reason": reason,
                "raw": raw,
                "quarantined_at": self.now,
            }
        )
        self.summary.quarantined += 1
        self.summary.reasons[code] = self.summary.reasons.get(code, 0) + 1

    # committing
    def commit(self) -> None:
        """Write the batch's files, then list them in the manifest: the commit point.

        The writing happens on a thread (pyarrow writes without holding the GIL) while the next
        batch is read; one commit at a time, each in order, so the commit point stays the same."""
        if not len(self.batch) and not self.pending_files:
            return
        name = _batch_name()
        staged = [(path, _batch_name(), rows) for path, rows in self.batch.staged]
        for _, staged_name, rows in staged:
            self.manifest["batches"].append(
                {"releases": staged_name, "quarantine": None, "rows": rows}
            )
        entry: dict[str, Any] = {
            "releases": name if self.batch.rows else None,
            "quarantine": name if self.batch.quarantine else None,
            "rows": self.batch.rows,
        }
        if entry["releases"] or entry["quarantine"]:
            self.manifest["batches"].append(entry)
        self.manifest["files"].update(
            {_known(digest): record for digest, record in self.pending_files.items()}
        )
        manifest = orjson.loads(orjson.dumps(self.manifest))  # as of now: the main thread goes on
        releases = self.batch.release_table() if self.batch.rows else None
        quarantine = self.batch.quarantine
        self.finish_commits()
        self.committing = self.committer.submit(
            self._write_batch, name, releases, quarantine, manifest, staged
        )
        self.pending_files = {}
        self.batch = _Batch()

    def _write_batch(
        self,
        name: str,
        releases: pa.Table | None,
        quarantine: list[dict[str, Any]],
        manifest: dict[str, Any],
        staged: list[tuple[str, str, int]],
    ) -> None:
        for path, staged_name, _ in staged:  # listed by the manifest below: the commit point
            os.replace(path, self.warehouse.releases_dir / staged_name)
        if releases is not None:
            _write_atomically(
                releases, RELEASE_SCHEMA, self.warehouse.releases_dir / name, **RELEASE_PARQUET
            )
        if quarantine:
            _write_atomically(quarantine, QUARANTINE_SCHEMA, self.warehouse.quarantine_dir / name)
        self.warehouse.write_manifest(manifest)

    def finish_commits(self) -> None:
        """Wait for the commit being written (raising what stopped it)."""
        if self.committing is not None:
            committing, self.committing = self.committing, None
            committing.result()

    def write_file_table(self) -> None:
        rows = [{"sha256": digest, **state} for digest, state in self.manifest["files"].items()]
        table = pa.Table.from_pylist(
            [
                {
                    "sha256": row["sha256"],
                    "path": row.get("path"),
                    "source": row.get("source"),
                    "size": row.get("size"),
                    "items_done": row.get("items_done"),
                    "complete": row.get("complete"),
                    "finished_at": row.get("finished_at"),
                }
                for row in rows
            ]
        )
        target = self.warehouse.raw_dir / "ingested_files.parquet"
        temporary = target.with_suffix(".tmp")
        pq.write_table(table, temporary)
        os.replace(temporary, target)

    def _report(self, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self.last_report > 0.2:
            self.last_report = now
            self.progress(self.summary)


CONFLICT_REASON = (
    "conflicting duplicate: same ocid, release id and date as an earlier release, other content"
)


def _whole_release(body: Any, ocid: str, date: str, raw_id: Any, tag: Any) -> str:
    """A stored release put back together (for a conflict's quarantine row)."""
    whole = {**orjson.loads(body), "ocid": ocid, "date": date}
    if raw_id is not None:
        whole["id"] = raw_id
    if tag is not None:
        whole["tag"] = tag
    return orjson.dumps(whole, option=orjson.OPT_SORT_KEYS).decode()


def _batch_name() -> str:
    return f"batch-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.parquet"


def _release_key(ocid: str, release_id: str | None, date: str, digest: str) -> int:
    """The deduplication key: (ocid, release id, date), or the content hash when there is no id,
    as a signed 64-bit BLAKE2b of the length-prefixed parts (the same as `native.release_key`)."""
    if native.enabled():
        return native.release_key(ocid, release_id, date, digest)
    parts = ("i", ocid, release_id, date) if release_id is not None else ("h", ocid, digest)
    hasher = hashlib.blake2b(parts[0].encode(), digest_size=8)
    for part in parts[1:]:
        encoded = str(part).encode("utf-8", "surrogatepass")
        hasher.update(len(encoded).to_bytes(4, "little") + encoded)
    return int.from_bytes(hasher.digest(), "little", signed=True)


def _write_atomically(
    rows: pa.Table | list[dict[str, Any]], schema: pa.Schema, target: Path, **options: Any
) -> None:
    """Write rows (a table, or a list of row dicts) to a Parquet file that appears whole or not."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, temporary, compression="zstd", **options)
    os.replace(temporary, target)


def _known(digest: str | Future[str]) -> str:
    return digest if isinstance(digest, str) else digest.result()


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _default_source(path: Path) -> str:
    return path.parent.name or path.name


def _dump(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        pass
    try:
        return repr(value)
    except RecursionError:
        return "(nested too deeply to show)"


def ingest(
    paths: list[Path],
    warehouse_dir: Path | None = None,
    source: str | None = None,
    progress: Callable | None = None,
    workers: int | None = None,
) -> IngestSummary:
    """Ingest OCDS files and directories into the warehouse. Raise IngestError on unusable input.

    Big JSON Lines files are parsed and checked by `workers` processes (default: up to 2), in
    chunks taken in file order; deduplication and commits stay in this process.
    """
    started = time.monotonic()
    missing = [str(path) for path in paths if not Path(path).exists()]
    if missing:
        raise IngestError(f"no such file or directory: {', '.join(missing)}")
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    files = expand_paths([Path(path) for path in paths])
    warehouse = Warehouse(warehouse_dir)
    with warehouse.writing("ingest"), _no_gc():
        # Under the lock: the manifest read here is the one this run commits to.
        ingester = Ingester(warehouse, source, progress, workers)
        ingester.summary.files_total = len(files)
        try:
            ingester.prepare()
            for path in files:
                ingester.ingest_file(path)
            ingester.commit()
            ingester.finish_commits()
            ingester.write_file_table()
        finally:
            ingester.close()
    ingester.summary.seconds = time.monotonic() - started
    return ingester.summary
