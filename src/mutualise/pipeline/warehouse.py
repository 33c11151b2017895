"""Where the pipeline's Parquet tables live, and a DuckDB view of all of them.

Layout under the warehouse directory (default `var/warehouse/`, or $MUTUALISE_WAREHOUSE_DIR):

    raw/_manifest.json            committed ingest batches and the files they came from
    raw/releases/*.parquet        ingested releases, one file per committed batch
    raw/quarantine/*.parquet      records that could not be used, with source, position and reason
    compiled/compiled_releases/   compiled releases, one row per ocid
    tables/<name>/                the analytics tables written by `flatten`
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
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


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse (ingest, compile or flatten)."""


# How many times this process holds each warehouse's write lock (ingest inside fetch, compile
# inside run_pipeline: the steps nest, and flock would refuse a second lock from this process).
_HELD: dict[str, int] = {}


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

    # -- writing --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, step: str) -> Iterator[None]:
        """Hold the warehouse's write lock for a step: one ingest, compile or flatten at a time.

        Two at once would lose data: an ingest deletes the Parquet files its manifest does not
        list, which would include a concurrent ingest's batches. Raise WarehouseBusy at once,
        naming the holder, rather than wait (a scheduled fetch that overruns should not pile up).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        key = str(self.root.resolve())
        if _HELD.get(key):
            _HELD[key] += 1
            try:
                yield
            finally:
                _HELD[key] -= 1
            return
        handle = (self.root / ".lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise WarehouseBusy(
                f"the warehouse {self.root} is being written by {holder}; "
                "run this again when it has finished"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"{step} (process {os.getpid()}, since {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        )
        handle.flush()
        _HELD[key] = 1
        try:
            yield
        finally:
            _HELD.pop(key, None)
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def remove_leftovers(self, folder: Path, prefix: str) -> None:
        """Delete what a killed step left in `folder` (hidden staging files and folders named
        `prefix…`). Only call while holding the write lock: they cannot be a running step's."""
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            if path.name.startswith(prefix):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

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
