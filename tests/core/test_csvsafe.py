"""The CSV injection helper: dangerous text is quoted, everything else is left as it is."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mutualise.core.csvsafe import FORMULA_STARTS, safe_cell, safe_table

cells = st.text(max_size=20) | st.sampled_from(["-12.5", "-1e-3", "-.5", "-", "+1", "=1", "@x"])


@settings(max_examples=200, deadline=None)
@given(text=cells)
@example(text="\t=1")
@example(text="-12.5")
def test_no_text_cell_can_start_a_formula(text: str) -> None:
    cell = safe_cell(text)
    if cell.startswith(FORMULA_STARTS):
        assert cell == text and float(cell) <= 0  # only a genuine negative number
    assert cell in (text, "'" + text)
    assert safe_cell(cell) == cell  # quoting twice changes nothing


@settings(max_examples=100, deadline=None)
@given(number=st.integers() | st.decimals(allow_nan=False, allow_infinity=False) | st.floats())
def test_numbers_are_written_as_numbers(number: object) -> None:
    assert safe_cell(number) == str(number)


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(st.none() | cells, max_size=10), large=st.booleans())
def test_the_vectorised_version_agrees(texts: list[str | None], large: bool) -> None:
    kind = pa.large_string() if large else pa.string()
    table = safe_table(pa.table({"text": pa.array(texts, kind), "n": [1] * len(texts)}))
    expected = [None if text is None else safe_cell(text) for text in texts]
    assert table.column("text").to_pylist() == expected
    assert table.column("n").to_pylist() == [1] * len(texts)


def test_examples() -> None:
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("-12.5") == "-12.5" and safe_cell("+1") == "'+1"
    assert safe_cell(None) == "" and safe_cell(Decimal("-1.00")) == "-1.00"
