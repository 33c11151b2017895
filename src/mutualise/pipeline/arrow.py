"""Arrow arrays made from buffers.

pyarrow imports pandas (about 0.2 s) the first time it converts Python or numpy values, even to
make a plain array; these build the arrays the pipeline's hot paths need from their buffers, so a
run that never needs pandas never pays for it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def int64_array(values: np.ndarray) -> pa.Array:
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def repeated_string(text: str, rows: int) -> pa.Array:
    """`text`, `rows` times."""
    encoded = text.encode()
    offsets = np.arange(rows + 1, dtype=np.int64) * len(encoded)
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ValueError("more text than a string array holds")
    parts = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(encoded * rows)]
    return pa.Array.from_buffers(pa.string(), rows, parts)


def int64_values(values: pa.Array | pa.ChunkedArray, null: int = 0) -> np.ndarray:
    """An int64 column's values (nulls as `null`), read from its buffers."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not len(array):
        return np.zeros(0, dtype=np.int64)
    validity, data = array.buffers()[:2]
    result = np.frombuffer(data, np.int64, len(array), array.offset * 8).copy()
    if array.null_count:
        bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
        result[bits[array.offset : array.offset + len(array)] == 0] = null
    return result
