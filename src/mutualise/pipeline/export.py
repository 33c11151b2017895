"""Exports: compiled releases as OCDS JSON Lines."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq

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
    with temporary.open("w", encoding="utf-8") as handle:
        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(10_000, columns=["compiled_release"]):
                for compiled in batch.column(0).to_pylist():
                    if compiled is not None:
                        handle.write(compiled)
                        handle.write("\n")
                        count += 1
    os.replace(temporary, out_path)
    return count
