"""The engines the Ibis transforms run on: DuckDB (embedded default) and PySpark (clusters).

Only reading and writing Parquet differ between engines; the transforms themselves are the same
Ibis expressions (see docs/adr/0003-pipeline-engines.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow.dataset as ds

ENGINES = ("duckdb", "spark")


class EngineSession:
    """An Ibis backend plus how to read and write Parquet with it."""

    def __init__(self, name: str, backend: Any, scratch: Path) -> None:
        self.name = name
        self.backend = backend
        self.scratch = scratch

    def read_parquet(self, folder: Path) -> ir.Table:
        if self.name == "duckdb":
            return self.backend.read_parquet(str(folder / "*.parquet"))
        return self.backend.read_parquet(str(folder))

    def write_parquet(self, expression: ir.Table, target: Path) -> int:
        """Write an expression's rows to a folder of Parquet files, replacing it atomically."""
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}-{uuid.uuid4().hex[:8]}")
        if self.name == "duckdb":
            staging.mkdir()
            self.backend.to_parquet(expression, staging / "part-0.parquet", compression="zstd")
        else:
            self.backend.to_parquet(expression, str(staging))
            for checksum in staging.glob(".*.crc"):
                checksum.unlink()
        old = target.with_name(f".{target.name}-old-{uuid.uuid4().hex[:8]}")
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
        return ds.dataset(target, format="parquet").count_rows()


def spark_session(app_name: str = "mutualise-pipeline") -> Any:
    """A Spark session: $SPARK_MASTER (default local[2]), UTC, memory from the environment."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .master(os.environ.get("SPARK_MASTER", "local[2]"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.executor.memory", os.environ.get("SPARK_EXECUTOR_MEMORY", "2g"))
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.ui.enabled", "false")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextlib.contextmanager
def connect_engine(name: str, scratch: Path) -> Iterator[EngineSession]:
    if name == "duckdb":
        backend = ibis.duckdb.connect()
        backend.raw_sql("SET TimeZone = 'UTC'")
        # Ibis 12 compiles array.map to DuckDB's `x -> ...` lambdas, deprecated in DuckDB 2.0.
        backend.raw_sql("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
        try:
            yield EngineSession(name, backend, scratch)
        finally:
            backend.disconnect()
    elif name == "spark":
        # The session is kept for reuse (starting the JVM costs ~10 s); Spark stops it at exit.
        yield EngineSession(name, ibis.pyspark.connect(spark_session()), scratch)
    else:
        raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
