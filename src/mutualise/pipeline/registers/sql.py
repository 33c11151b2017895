"""DuckDB SQL macros shared by the register loaders and resolution, and the name UDF."""

from __future__ import annotations

import contextlib
from typing import Any

import duckdb
import pyarrow as pa
from duckdb.func import PythonUDFType

from mutualise.pipeline.registers.names import legal_form_hint, normalise_name

# A UK postcode, anywhere in a text (outward code, a space or none, inward code).
POSTCODE_PATTERN = r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})"

MACROS = f"""
CREATE OR REPLACE MACRO uk_postcode(text) AS (
    CASE WHEN regexp_matches(upper(coalesce(text, '')), '{POSTCODE_PATTERN}')
         THEN regexp_extract(upper(text), '{POSTCODE_PATTERN}', 1) || ' '
              || regexp_extract(upper(text), '{POSTCODE_PATTERN}', 2)
    END
);
CREATE OR REPLACE MACRO address_key(text) AS (
    nullif(trim(regexp_replace(regexp_replace(upper(coalesce(text, '')), '[^A-Z0-9 ]', ' ', 'g'),
                               ' +', ' ', 'g')), '')
);
CREATE OR REPLACE MACRO company_number(value) AS (
    CASE
        WHEN value IS NULL THEN NULL
        WHEN regexp_matches(regexp_replace(upper(value), '[\\s.]', '', 'g'), '^[0-9]{{1,8}}$')
            THEN lpad(regexp_replace(upper(value), '[\\s.]', '', 'g'), 8, '0')
        WHEN regexp_matches(regexp_replace(upper(value), '[\\s.]', '', 'g'), '^[A-Z]{{2}}[0-9]{{1,6}}$')
            THEN left(regexp_replace(upper(value), '[\\s.]', '', 'g'), 2)
                 || lpad(substr(regexp_replace(upper(value), '[\\s.]', '', 'g'), 3), 6, '0')
        ELSE regexp_replace(upper(value), '[\\s.]', '', 'g')
    END
);
CREATE OR REPLACE MACRO valid_company_number(value) AS (
    regexp_matches(coalesce(value, ''), '^([0-9]{{8}}|[A-Z]{{2}}[0-9]{{6}}|[A-Z]{{2}}[0-9]{{5}}[A-Z])$')
);
CREATE OR REPLACE MACRO uk_date(text) AS (try_strptime(nullif(trim(text), ''), '%d/%m/%Y')::DATE);
"""


def _arrow_udf(function: Any) -> Any:
    def apply(values: pa.Array) -> pa.Array:
        return pa.array(
            [function(value) if value is not None else None for value in values.to_pylist()],
            type=pa.string(),
        )

    return apply


def prepare(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Add the macros and the name functions to a DuckDB connection."""
    connection.execute(MACROS)
    for name, function in (
        ("normalise_name", normalise_name),
        ("legal_form_hint", legal_form_hint),
    ):
        with contextlib.suppress(duckdb.CatalogException):  # already registered on this connection
            connection.create_function(
                name,
                _arrow_udf(function),
                ["VARCHAR"],
                "VARCHAR",
                type=PythonUDFType.ARROW,
                side_effects=False,
            )
    return connection
