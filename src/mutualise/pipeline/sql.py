"""Ad hoc SQL over the warehouse: every table is a DuckDB view."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from mutualise.pipeline.warehouse import Warehouse


def sql(query: str, warehouse_dir: Path | None = None) -> pa.Table:
    """Run a query against the warehouse tables and return the result as a pyarrow Table."""
    with Warehouse(warehouse_dir).connect() as connection:
        return connection.sql(query).to_arrow_table()
