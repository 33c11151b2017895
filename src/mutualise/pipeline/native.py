"""The pipeline's hot paths in C (`_native.c`), beside their Python references.

`examine_block` reads a block of JSON Lines at ingest and `compile_sorted` merges a sorted table
of releases at compile; each gives the same rows and bytes as the Python path (`ingest.examine_value`,
`merge.Merger.compiled`) and leaves to that path anything it does not read itself. The module is built
by `pip install` (pyproject.toml); `MUTUALISE_NATIVE=0` turns it off, and without it the Python
path does everything (docs/adr/0011-native-ingest-and-merge.md).
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from mutualise.pipeline.merge import Plan

try:
    from mutualise.pipeline import _native  # type: ignore[attr-defined]
except ImportError:  # an install that did not build it: the Python path does the work
    _native = None


def enabled() -> bool:
    return _native is not None and os.environ.get("MUTUALISE_NATIVE", "1") != "0"


def examine_block(data: bytes, label: str, start: int, first_line: int) -> tuple | None:
    """The values of a block of JSON Lines read in C: (values, column buffers, what is left to
    Python as (value number, line number, byte offset, JSON, item, version): a whole stripped line
    with item and version None, or one release of a package); None when off."""
    if not enabled():
        return None
    result: tuple = _native.examine_block(data, label, start, first_line)
    return result


def block_table(buffers: dict[str, tuple]) -> pa.Table:
    """The Arrow table (`ingest.BLOCK_SCHEMA`) of the column buffers `examine_block` returns."""
    from mutualise.pipeline.ingest import BLOCK_SCHEMA

    return table_from_buffers(BLOCK_SCHEMA, buffers)


def table_from_buffers(schema: pa.Schema, buffers: dict[str, tuple]) -> pa.Table:
    """A table of `schema` from the C module's column buffers: for each column (rows, nulls,
    validity, offsets, data); a list column's items under "<name>.item"."""
    arrays = []
    for field in schema:
        if pa.types.is_list(field.type):
            rows, nulls, validity, offsets, _ = buffers[field.name]
            items = _array(field.type.value_type, buffers[f"{field.name}.item"])
            parts = [_buffer(validity), pa.py_buffer(offsets)]
            arrays.append(pa.Array.from_buffers(field.type, rows, parts, nulls, children=[items]))
        else:
            arrays.append(_array(field.type, buffers[field.name]))
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(kind: pa.DataType, buffers: tuple) -> pa.Array:
    rows, nulls, validity, offsets, data = buffers
    parts = [_buffer(validity), *([] if offsets is None else [pa.py_buffer(offsets)])]
    return pa.Array.from_buffers(kind, rows, [*parts, pa.py_buffer(data)], nulls)


def _buffer(data: bytes | None) -> pa.Buffer | None:
    return None if data is None else pa.py_buffer(data)


def compile_sorted(
    plan: Any, table: pa.Table, order: pa.Array
) -> tuple[int, dict[str, tuple], list[tuple]]:
    """Compile a table of releases in C, taking its rows in `order` (which sorts them by ocid, date
    and ingest order): (ocids, column buffers of `compile.COMPILED_SCHEMA`, (ocid's row in the
    output, first, end position in `order`) of the ocids whose compiled release the Python merge
    must make). The table's record batches are read where they are, without a copy."""
    batches = [_batch_spec(batch) for batch in table.select(_SORTED_INPUT).to_batches()]
    if order.null_count or order.offset or order.type not in (pa.int64(), pa.uint64()):
        raise ValueError("the order must be row numbers, as pyarrow.compute.sort_indices gives")
    # The row numbers' own buffer (uint64 row numbers are int64 ones, bit for bit): converting
    # or casting arrays makes pyarrow import pandas, 0.2 s in every new worker process.
    result: tuple[int, dict[str, tuple], list[tuple]] = _native.compile_sorted(
        plan, order.buffers()[1], [batch for batch in batches if batch[0]]
    )
    return result


_SORTED_INPUT = ["ocid", "release_id", "date", "tag", "body", "source", "date_utc"]


def _batch_spec(batch: pa.RecordBatch) -> tuple:
    """(rows, then the buffers of ocid, release_id, date, tag, tag items, body, source, date_utc)."""
    ocid, release_id, date, tags, body, source, date_utc = (
        _unsliced(column) for column in batch.columns
    )
    return (
        batch.num_rows,
        _spec(ocid),
        _spec(release_id),
        _spec(date),
        (_buffer_of(tags, 0), _buffer_of(tags, 1), None),
        _spec(_unsliced(tags.values)),
        _spec(body),
        _spec(source),
        (_buffer_of(date_utc, 0), None, _buffer_of(date_utc, 1)),
    )


def _unsliced(array: pa.Array) -> pa.Array:
    """The array starting at its buffers' first byte (as the C module reads buffers)."""
    if array.offset == 0 and not (pa.types.is_list(array.type) and array.values.offset):
        return array
    return pa.concat_arrays([array.take(pa.array(range(len(array)), pa.int64()))])


def _spec(array: pa.Array) -> tuple:
    return (_buffer_of(array, 0), _buffer_of(array, 1), _buffer_of(array, 2))


def _buffer_of(array: pa.Array, index: int) -> pa.Buffer | None:
    buffers = array.buffers()
    return buffers[index] if index < len(buffers) else None


def release_key(ocid: str, release_id: str | None, date: str, digest: str) -> int:
    """`ingest._release_key`, in C."""
    key: int = _native.release_key(ocid, release_id, date, digest)
    return key


def plan_spec(plan: Plan) -> tuple:
    """A merge plan as nested tuples, for the C merge: (omit, whole, ((key, plan), ...))."""
    return (
        tuple(sorted(plan.omit)),
        tuple(sorted(plan.whole)),
        tuple((key, plan_spec(child)) for key, child in plan.children.items()),
    )


def merge_plan(plan: Plan) -> Any:
    """The C form of a merge plan, or None when the C merge is off."""
    return _native.make_plan(plan_spec(plan)) if enabled() else None
