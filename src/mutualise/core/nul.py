"""Remove U+0000 from warehouse rows before they reach the database.

Open data sometimes carries NUL characters (a JSON "\\u0000" inside a title or a name). SQLite
stores them, but PostgreSQL refuses them in text and jsonb columns, so one such title would stop
a whole load. Nothing of meaning is lost by removing them: they are never part of the text.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

NUL = "\x00"


def _clean(array: pa.Array) -> pa.Array:
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.replace_substring(array, NUL, "")
    if pa.types.is_list(kind) and (
        pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
    ):
        if array.offset:  # a slice: rebuilt from its own rows (offsets and mask must agree)
            array = pa.concat_arrays([array])
        return pa.ListArray.from_arrays(
            array.offsets, _clean(array.values), type=kind, mask=array.is_null()
        )
    return array


def without_nul(table: pa.Table) -> pa.Table:
    """The table with U+0000 removed from its text and list-of-text columns."""
    for index, field in enumerate(table.schema):
        column = table.column(index)
        cleaned = pa.chunked_array([_clean(chunk) for chunk in column.chunks], type=field.type)
        table = table.set_column(index, field, cleaned)
    return table
