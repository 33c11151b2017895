"""Fixtures for the fetcher tests (fakes live in sources_fakes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sources_fakes import (
    CF_PATH,
    FTS_PATH,
    FakeApi,
    load_cf_releases,
    make_fts_releases,
)

from mutualise.pipeline.sources.clock import FakeClock


@pytest.fixture
def cf_releases() -> list[dict[str, Any]]:
    return load_cf_releases()


@pytest.fixture
def contracts_finder_api(httpserver: HTTPServer) -> Iterator[FakeApi]:
    api = FakeApi(
        httpserver,
        CF_PATH,
        "publishedFrom",
        "publishedTo",
        load_cf_releases(),
        page_size=30,
        next_on_last_page=True,
    )
    api.install()
    yield api


@pytest.fixture
def find_a_tender_api(httpserver: HTTPServer) -> Iterator[FakeApi]:
    api = FakeApi(
        httpserver,
        FTS_PATH,
        "updatedFrom",
        "updatedTo",
        make_fts_releases(),
        page_size=4,
        next_on_last_page=False,
    )
    api.install()
    yield api


@pytest.fixture
def clock() -> FakeClock:
    # "Now" is well after the sample data, so ranges in the tests are never clamped.
    return FakeClock(start=datetime(2025, 4, 1, tzinfo=UTC))


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    return tmp_path / "raw"
