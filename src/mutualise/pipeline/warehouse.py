"""Where the pipeline's Parquet tables live, and a DuckDB view of all of them.

Layout under the warehouse directory (default `var/warehouse/`, or $MUTUALISE_WAREHOUSE_DIR):

    raw/_manifest.json            committed ingest batches and the files they came from
    raw/releases/*.parquet        ingested releases, one file per committed batch
    raw/quarantine/*.parquet      records that could not be used, with source, position and reason
    compiled/compiled_releases/   compiled releases, one row per ocid
    tables/<name>/                the analytics tables written by `flatten`
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

DEFAULT_DIR = Path("var/warehouse")
ENV_VAR = "MUTUALISE_WAREHOUSE_DIR"

# The analytics tables written by `flatten`, in the order they are built.
ANALYTICS_TABLES = (
    "processes",
    "buyers",
    "parties",
    "tenders",
    "lots",
    "awards",
    "award_suppliers",
    "contracts",
    "amendments",
)


def resolve_dir(warehouse_dir: Path | str | None = None) -> Path:
    """The warehouse directory: the argument, else $MUTUALISE_WAREHOUSE_DIR, else var/warehouse."""
    if warehouse_dir is not None:
        return Path(warehouse_dir)
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


@dataclass
class Warehouse:
    """Paths of every table, and ways to read them."""

    root: Path

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = resolve_dir(root)

    # -- paths ----------------------------------------------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def manifest_path(self) -> Path:
        return self.raw_dir / "_manifest.json"

    @property
    def releases_dir(self) -> Path:
        return self.raw_dir / "releases"

    @property
    def quarantine_dir(self) -> Path:
        return self.raw_dir / "quarantine"

    @property
    def compiled_dir(self) -> Path:
        return self.root / "compiled" / "compiled_releases"

    @property
    def tables_dir(self) -> Path:
        return self.root / "tables"

    def table_dir(self, name: str) -> Path:
        return self.tables_dir / name

    # -- manifest -------------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any]:
        if not self.manifest_path.exists():
            return {"batches": [], "files": {}, "next_seq": 0}
        return orjson.loads(self.manifest_path.read_bytes())

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically: a crash leaves the old one or the new one."""
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.manifest_path.with_suffix(".json.tmp")
        temporary.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        os.replace(temporary, self.manifest_path)

    def committed_files(self, kind: str) -> list[Path]:
        """Parquet files of committed batches (`releases` or `quarantine`)."""
        folder = self.releases_dir if kind == "releases" else self.quarantine_dir
        names = [batch[kind] for batch in self.read_manifest()["batches"] if batch.get(kind)]
        return [folder / name for name in names]

    # -- reading ---------------------------------------------------------------------------------
    def table_paths(self) -> dict[str, list[Path] | Path]:
        """Every table that exists, with its Parquet file(s) or folder."""
        paths: dict[str, list[Path] | Path] = {}
        for kind in ("releases", "quarantine"):
            files = self.committed_files(kind)
            if files:
                paths[kind] = files
        ingested = self.raw_dir / "ingested_files.parquet"
        if ingested.exists():
            paths["ingested_files"] = [ingested]
        if any(self.compiled_dir.glob("*.parquet")):
            paths["compiled_releases"] = self.compiled_dir
        for name in ANALYTICS_TABLES:
            if any(self.table_dir(name).glob("*.parquet")):
                paths[name] = self.table_dir(name)
        return paths

    def connect(self, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with every warehouse table as a view."""
        connection = duckdb.connect(database)
        connection.execute("SET TimeZone = 'UTC'")
        for name, where in self.table_paths().items():
            # The names are ours and the paths are quoted literals.
            view = f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({_sources(where)})"  # noqa: S608
            connection.execute(view)
        return connection

    def table(self, name: str) -> Any:
        """One table as a pyarrow Table."""
        with self.connect() as connection:
            query = f"SELECT * FROM {_identifier(name)}"  # noqa: S608 - a checked identifier
            return connection.sql(query).to_arrow_table()


def _sources(where: list[Path] | Path) -> str:
    if isinstance(where, list):
        return "[" + ", ".join(_literal(str(path)) for path in where) + "]"
    return _literal(str(where / "*.parquet"))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {name!r}")
    return name
