"""U+0000 is removed from warehouse rows before they reach the database."""

from __future__ import annotations

import pyarrow as pa

from mutualise.core.nul import without_nul


def test_removes_nul_from_text_and_lists_of_text_and_keeps_the_rest():
    table = pa.table(
        {
            "title": pa.array(["Care\x00 services", None, "plain"]),
            "tags": pa.array([["a\x00b", "c"], None, []], pa.list_(pa.string())),
            "value": pa.array([1, 2, 3]),
        }
    )
    cleaned = without_nul(table.slice(0, 3))
    assert cleaned.to_pylist() == [
        {"title": "Care services", "tags": ["ab", "c"], "value": 1},
        {"title": None, "tags": None, "value": 2},
        {"title": "plain", "tags": [], "value": 3},
    ]
    assert cleaned.schema == table.schema


def test_a_sliced_list_column_keeps_its_own_rows():
    tags = pa.array([["x\x00"], ["y"], ["z\x00", "w"]], pa.list_(pa.string())).slice(1)
    cleaned = without_nul(pa.table({"tags": tags}))
    assert cleaned.column("tags").to_pylist() == [["y"], ["z", "w"]]
