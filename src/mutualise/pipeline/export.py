"""Exports: compiled releases as OCDS JSON Lines."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from mutualise.pipeline.warehouse import Warehouse


def export_compiled_releases(out_path: Path, warehouse_dir: Path | None = None) -> int:
    """Write every compiled release, one JSON object per line, in ocid order; return the count."""
    warehouse = Warehouse(warehouse_dir)
    files = sorted(warehouse.compiled_dir.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(
            f"no compiled releases in {warehouse.compiled_dir}: run the pipeline first"
        )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".{out_path.name}.tmp")
    count = 0
    listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    spill = warehouse.root / "tmp"
    spill.mkdir(parents=True, exist_ok=True)
    # The compiled table is written in parts (DuckDB's and the merge workers'); DuckDB sorts them
    # by ocid, spilling to disk past its memory limit.
    with duckdb.connect() as connection, temporary.open("w", encoding="utf-8") as handle:
        connection.execute("SET memory_limit = '400MB'")
        connection.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
        query = (
            f"SELECT compiled_release FROM read_parquet([{listed}])"  # noqa: S608 - quoted paths
            " WHERE compiled_release IS NOT NULL ORDER BY ocid"
        )
        for batch in connection.sql(query).to_arrow_reader(10_000):
            for compiled in batch.column(0).to_pylist():
                handle.write(compiled)
                handle.write("\n")
                count += 1
    os.replace(temporary, out_path)
    return count
