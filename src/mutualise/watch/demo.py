"""Demo data for contract watch, loaded from the pipeline's warehouse (idempotent).

`core.demo.seed_world` runs app demos before the demo pipeline, so `seed_demo` only loads a
warehouse that already has chains and outcomes. After the pipeline, `demo_pipeline_step` (shaped
like `core.demo.DEMO_PIPELINE_STEPS` entries) builds chains and outcomes and loads them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def seed_demo(programme: dict[str, Any], seed: int) -> None:
    from mutualise.pipeline.warehouse import resolve_dir
    from mutualise.watch.services import load_from_warehouse, warehouse_ready

    if warehouse_ready(resolve_dir(None)):
        load_from_warehouse(None)


def demo_pipeline_step(world_dir: Path, console: Any) -> None:
    """chains → outcomes → watch load, over the default warehouse."""
    summary = load_after_pipeline()
    if summary is not None and console is not None:
        console.print(
            f"    contract watch: {summary.created:,} new and {summary.updated:,} changed "
            f"contracts, {summary.outcomes:,} outcomes, {summary.links:,} re-tender links"
        )


def load_after_pipeline(warehouse_dir: Path | None = None) -> Any:
    """Build chains and outcomes if the flattened tables are there, then load them."""
    from mutualise.pipeline.chains import run_chains
    from mutualise.pipeline.outcomes import run_outcomes
    from mutualise.pipeline.warehouse import Warehouse
    from mutualise.watch.services import load_from_warehouse

    warehouse = Warehouse(warehouse_dir)
    if not any(warehouse.table_dir("awards").glob("*.parquet")):
        return None
    run_chains(warehouse.root)
    run_outcomes(warehouse.root)
    return load_from_warehouse(warehouse.root)
