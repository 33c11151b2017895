"""Fixtures for the pipeline tests: real OCDS samples and a warehouse built from them once.

Nothing here needs Django (the pipeline never imports it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ocds"
CF_2025 = FIXTURES / "cfserver1-2019-2025" / "contracts-finder-2025-01-to-03.releases.jsonl"
CF_2014 = FIXTURES / "contracts-finder-2014-2016"


@pytest.fixture(scope="session")
def samples() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every real sample ingested, compiled and flattened on DuckDB (shared, read-only)."""
    from mutualise.pipeline.run import run_pipeline

    root = tmp_path_factory.mktemp("warehouse")
    run_pipeline([FIXTURES], root, engine="duckdb")
    return root


@pytest.fixture
def small_input(tmp_path: Path) -> Path:
    """A copy of the Contracts Finder 2025 sample that a test may change."""
    target = tmp_path / "input"
    target.mkdir()
    shutil.copy(CF_2025, target / CF_2025.name)
    return target
