"""Find a Tender (all Procurement Act notices since 24 Feb 2025; ocid prefix `ocds-h6vhtk-`).

`GET {base}/api/1.0/ocdsReleasePackages?updatedFrom&updatedTo&stages&limit&cursor`
returns an OCDS release package with `links.next`. Query windows are at most 6 hours. The
service allows about 12 requests per 2 minutes and answers HTTP 429 beyond that; 10 s
between requests stays under the limit. Its JSON has held `1e9999` and numbers such as
`250 000,`; pages are stored exactly as received and the ingest parses them leniently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx

from .api import ApiSource, fetch_api
from .client import RatePolicy
from .clock import Clock
from .report import FetchReporter, FetchSummary

DEFAULT_BASE_URL = "https://www.find-tender.service.gov.uk"

FIND_A_TENDER = ApiSource(
    name="find_a_tender",
    title="Find a Tender",
    default_base_url=DEFAULT_BASE_URL,
    path="/api/1.0/ocdsReleasePackages",
    from_parameter="updatedFrom",
    to_parameter="updatedTo",
    time_format="%Y-%m-%dT%H:%M:%SZ",
    window_span=timedelta(hours=6),
    policy=RatePolicy(
        min_interval=10.0,
        rate_limit_statuses=frozenset({429}),
        fixed_wait=None,
        backoff_start=60.0,
        backoff_max=900.0,
        max_rate_limit_waits=8,
    ),
)


def fetch_find_a_tender(
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    raw_dir: Path | None = None,
    base_url: str | None = None,
    stages: str | None = None,
    clock: Clock | None = None,
    policy: RatePolicy | None = None,
    http: httpx.Client | None = None,
    reporter: FetchReporter | None = None,
) -> FetchSummary:
    return fetch_api(
        FIND_A_TENDER,
        start,
        end,
        raw_dir=raw_dir,
        base_url=base_url,
        stages=stages,
        clock=clock,
        policy=policy,
        http=http,
        reporter=reporter,
    )
