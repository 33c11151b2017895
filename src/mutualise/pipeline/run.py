"""The whole pipeline: ingest → compile → flatten."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mutualise.pipeline.compile import CompileSummary, compile_releases
from mutualise.pipeline.flatten import FlattenSummary, flatten
from mutualise.pipeline.ingest import IngestSummary, ingest


@dataclass
class PipelineSummary:
    ingest: IngestSummary
    compile: CompileSummary
    flatten: FlattenSummary


def run_pipeline(
    paths: list[Path],
    warehouse_dir: Path | None = None,
    engine: str = "duckdb",
    source: str | None = None,
    progress: object | None = None,
) -> PipelineSummary:
    """Ingest the paths, compile every ocid and rebuild the analytics tables."""
    ingested = ingest(paths, warehouse_dir, source=source, progress=progress)  # type: ignore[arg-type]
    compiled = compile_releases(warehouse_dir)
    flattened = flatten(warehouse_dir, engine=engine)
    return PipelineSummary(ingested, compiled, flattened)
