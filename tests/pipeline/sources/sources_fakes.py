"""Fakes: Contracts Finder / Find a Tender services replaying realistic pages.

Pages are shaped like the real responses: an OCDS release package (uri, version,
extensions, publishedDate, publisher, license, publicationPolicy, releases) whose
`links.next` is the full URL of the next page with an opaque base64 `cursor`, as in the
Contracts Finder response captured in apa999/CFServer1 (TestData.swift) and as followed
by open-contracting/kingfisher-collect. Contracts Finder keeps a `links.next` even on its
empty last page; our fake Find a Tender drops `links.next` on its last page, so both
ways of ending are exercised. Releases are real Contracts Finder releases from
/work/shared/data/ocds (the Find a Tender ones are derived from them).
"""

from __future__ import annotations

import base64
import copy
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

SAMPLE = Path(
    "/work/shared/data/ocds/uk/cfserver1-2019-2025/contracts-finder-2025-01-to-03.releases.jsonl"
)
CF_PATH = "/Published/Notices/OCDS/Search"
FTS_PATH = "/api/1.0/ocdsReleasePackages"

# Markers swapped, in the served text, for the quirks Find a Tender has really served.
INFINITY_MARKER = 987654321987
SPACED_MARKER = 123123123123


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_cf_releases() -> list[dict[str, Any]]:
    with SAMPLE.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def make_fts_releases(count: int = 40) -> list[dict[str, Any]]:
    """Find a Tender-style releases: real content, FTS ocids, spread over 2025-03-01."""
    releases = []
    start = datetime(2025, 3, 1, tzinfo=UTC)
    for index, source in enumerate(load_cf_releases()[:count]):
        release = copy.deepcopy(source)
        suffix = release["ocid"].removeprefix("ocds-b5fd17-")[:8]
        release["ocid"] = f"ocds-h6vhtk-05{index:04d}-{suffix}"
        release["id"] = f"{release['ocid']}-{index}"
        when = start + timedelta(minutes=37 * index)
        release["date"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        tender = release.setdefault("tender", {})
        tender.setdefault("documents", []).append(
            {"id": f"notice-{index}", "documentType": "tenderNotice", "noticeType": "UK4"}
        )
        if index == 3:
            tender["value"] = {"amount": INFINITY_MARKER, "currency": "GBP"}
        if index == 4:
            tender["value"] = {"amount": SPACED_MARKER, "currency": "GBP"}
        releases.append(release)
    return releases


def encode_cursor(window_from: str, window_to: str, index: int) -> str:
    plain = f"publishedFrom={window_from}|publishedTo={window_to}|limit=100|nextCursor={index}"
    return base64.b64encode(plain.encode()).decode()


def decode_cursor(cursor: str) -> int:
    plain = base64.b64decode(cursor).decode()
    return int(plain.rsplit("nextCursor=", 1)[1])


@dataclass
class FakeApi:
    """One fake service. `calls` records every request's query; `failures` are served first."""

    server: HTTPServer
    path: str
    from_parameter: str
    to_parameter: str
    releases: list[dict[str, Any]]
    page_size: int
    next_on_last_page: bool
    charset_by_window: dict[str, str] = field(default_factory=dict)
    calls: list[dict[str, str | None]] = field(default_factory=list)
    failures: deque[tuple[int, dict[str, str], bytes]] = field(default_factory=deque)

    def install(self) -> None:
        self.server.expect_request(self.path).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def fail(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        body = b"Too many requests" if status in (403, 429) else b"error"
        for _ in range(times):
            self.failures.append((status, headers or {}, body))

    def handle(self, request: Request) -> Response:
        query = request.args
        self.calls.append(
            {
                "from": query.get(self.from_parameter),
                "to": query.get(self.to_parameter),
                "cursor": query.get("cursor"),
                "limit": query.get("limit"),
                "stages": query.get("stages"),
            }
        )
        if self.failures:
            status, headers, body = self.failures.popleft()
            return Response(body, status=status, headers=headers)

        window_from = query[self.from_parameter]
        window_to = query[self.to_parameter]
        low, high = parse_time(window_from), parse_time(window_to)
        chosen = [r for r in self.releases if low <= parse_time(r["date"]) < high]
        cursor = query.get("cursor")
        index = decode_cursor(cursor) if cursor else 0
        size = min(self.page_size, int(query.get("limit", "100")))
        chunk = chosen[index * size : (index + 1) * size]
        more = (index + 1) * size < len(chosen)

        package: dict[str, Any] = {
            "uri": request.url,
            "version": "1.1",
            "extensions": [
                "https://raw.githubusercontent.com/open-contracting-extensions/ocds_pagination_extension/master/extension.json"
            ],
            "publishedDate": "2025-03-11T12:00:00Z",
            "publisher": {
                "name": "Cabinet Office",
                "scheme": "GB-GOR",
                "uid": "D2",
                "uri": "https://www.gov.uk/government/organisations/cabinet-office",
            },
            "license": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            "publicationPolicy": "https://www.gov.uk/government/publications/open-contracting",
            "releases": chunk,
        }
        if more or self.next_on_last_page:
            next_query = httpx.QueryParams(
                {
                    self.from_parameter: window_from,
                    self.to_parameter: window_to,
                    "limit": query.get("limit", "100"),
                    "cursor": encode_cursor(window_from, window_to, index + 1),
                }
            )
            package["links"] = {"next": f"{self.server.url_for(self.path)}?{next_query}"}

        text = orjson.dumps(package).decode()
        text = text.replace(str(INFINITY_MARKER), "1e9999")
        text = text.replace(str(SPACED_MARKER), "250 000")
        charset = self.charset_by_window.get(window_from)
        if charset:
            # Like many servers that label their text ISO-8859-1, really send Windows-1252.
            codec = "cp1252" if charset == "iso-8859-1" else charset
            return Response(
                text.encode(codec),
                content_type=f"application/json; charset={charset}",
            )
        return Response(text.encode("utf-8"), content_type="application/json; charset=utf-8")


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (relative path -> bytes)."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
