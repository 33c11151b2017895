"""A small synthetic world shared by the tests in this folder (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutualise.synth.world import WorldSummary, generate_world

RELEASES = 4000
SEED = 11


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorldSummary]:
    out = tmp_path_factory.mktemp("world")
    summary = generate_world(out, RELEASES, SEED, register_rows=3000)
    return out, summary
