"""Contracts Finder (the legacy feed for PCR 2015 processes; ocid prefix `ocds-b5fd17-`).

`GET {base}/Published/Notices/OCDS/Search?publishedFrom&publishedTo&stages&limit&cursor`
returns an OCDS release package; `links.next` holds the next page's URL with a `cursor`.
The service allows one request at a time; HTTP 403 ("too many requests") means make no
request for 5 minutes. Its text is sometimes ISO-8859-1 rather than UTF-8.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx

from .api import ApiSource, fetch_api
from .client import RatePolicy
from .clock import Clock
from .report import FetchReporter, FetchSummary

DEFAULT_BASE_URL = "https://www.contractsfinder.service.gov.uk"

CONTRACTS_FINDER = ApiSource(
    name="contracts_finder",
    title="Contracts Finder",
    default_base_url=DEFAULT_BASE_URL,
    path="/Published/Notices/OCDS/Search",
    from_parameter="publishedFrom",
    to_parameter="publishedTo",
    time_format="%Y-%m-%dT%H:%M:%S",
    # No documented limit on the range; a day keeps windows small enough to resume and
    # costs one extra (empty) page per day.
    window_span=timedelta(days=1),
    policy=RatePolicy(
        min_interval=1.0,
        rate_limit_statuses=frozenset({403, 429}),
        fixed_wait=300.0,
        max_rate_limit_waits=6,
    ),
)


def fetch_contracts_finder(
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
        CONTRACTS_FINDER,
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
