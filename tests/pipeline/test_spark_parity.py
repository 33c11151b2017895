"""DuckDB and Spark produce identical tables from the real samples (small data: Spark is slow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mutualise.pipeline.flatten import flatten
from mutualise.pipeline.warehouse import ANALYTICS_TABLES, Warehouse

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def rows(warehouse: Path, name: str) -> tuple[list[str], list[tuple]]:
    table = Warehouse(warehouse).table(name)
    values = [tuple(repr(v) for v in row.values()) for row in table.to_pylist()]
    return table.column_names, sorted(values)


def test_duckdb_and_spark_tables_are_identical(
    built_warehouse: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    request.getfixturevalue("spark_session")  # the shared session (tests/conftest.py)
    spark_warehouse = tmp_path / "spark"
    shutil.copytree(built_warehouse / "compiled", spark_warehouse / "compiled")
    flatten(spark_warehouse, engine="spark")
    for name in ANALYTICS_TABLES:
        assert rows(spark_warehouse, name) == rows(built_warehouse, name), name
