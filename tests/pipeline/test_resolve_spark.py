"""Splink on Spark gives the same supplier links as Splink on DuckDB (small synthetic world)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mutualise.pipeline.resolve import read_table, resolve

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def test_spark_and_duckdb_give_the_same_links(tmp_path: Path, spark_session) -> None:
    from tests.pipeline.test_resolve import build_world

    _, warehouse = build_world(tmp_path, releases=800, seed=5)
    spark_warehouse = tmp_path / "wh-spark"
    shutil.copytree(warehouse, spark_warehouse)
    resolve(warehouse, engine="duckdb")
    resolve(spark_warehouse, engine="spark")

    def links(root: Path) -> dict[tuple, tuple]:
        return {
            (r["ocid"], r["award_id"], r["supplier_party_id"], r["position"]): (
                r["organisation_identifier"],
                r["matched_by"],
                r["supplier_class"],
            )
            for r in read_table("supplier_links", root).to_pylist()
        }

    duckdb_links, spark_links = links(warehouse), links(spark_warehouse)
    assert duckdb_links.keys() == spark_links.keys()
    differences = {
        k: (duckdb_links[k], spark_links[k])
        for k in duckdb_links
        if duckdb_links[k] != spark_links[k]
    }
    assert not differences, list(differences.items())[:5]
