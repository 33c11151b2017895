"""Signed out: the evidence dashboard, a filter, the rows behind a figure and a download."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.e2e.helpers import follow

pytestmark = pytest.mark.e2e


def test_dashboard_filter_rows_and_download(browser_page, live_url, check_accessibility):
    from mutualise.evidence import services
    from tests.evidence.conftest import build_world

    build_world()
    services._current_cache.clear()
    snapshot = services.refresh_snapshot(as_of=dt.date(2025, 6, 30))
    # Warm the per-process caches (the live server runs in this process): the first SVG render
    # starts vl-convert's engine, which is slow on a busy machine.
    from mutualise.evidence import charts
    from mutualise.evidence.metrics import METRICS, Filters

    for metric in METRICS:
        charts.svg_for(snapshot.snapshot_id, metric.slug, Filters(), metric.views[0].key)
    page = browser_page
    page.set_default_timeout(60_000)

    page.goto(f"{live_url}/evidence/")
    assert page.locator("h1").inner_text() == "Evidence: public service mutuals"
    assert snapshot.snapshot_id in page.content()
    page.wait_for_load_state("networkidle")
    check_accessibility(page)

    page.select_option("#supplier_class", "SME")
    page.fill("#year_from", "2025")
    follow(page.get_by_role("button", name="Apply filters"))
    page.wait_for_load_state("networkidle")
    assert "supplier_class=SME" in page.url and "year_from=2025" in page.url
    check_accessibility(page)

    follow(page.locator("#figure-contract-share ~ table a").first)
    page.wait_for_load_state()
    assert "/evidence/rows/contract-share/" in page.url
    assert page.locator("h1").inner_text() == "The rows behind this figure"
    check_accessibility(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV of the rows behind this figure").click()
    download = download_info.value
    content = Path(download.path()).read_text(encoding="utf-8")
    assert content.splitlines()[0].startswith("ocid,award_id")
    assert len(content.splitlines()) == 3  # the two 2025 SME awards

    page.goto(f"{live_url}/evidence/figures/retender-outcomes/")
    assert "too few to give a percentage" in page.content()
    check_accessibility(page)
