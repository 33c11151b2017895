"""Bulk files: local paths in place; URLs streamed to disk and resumed with Range."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from mutualise.pipeline.sources.bulk import fetch_bulk, file_name_for
from mutualise.pipeline.sources.clock import FakeClock
from mutualise.pipeline.sources.errors import FetchError, PermanentHttpError
from mutualise.pipeline.sources.report import FetchReporter

PATH = "/en/publication/41/download"


@pytest.fixture
def bulk_bytes(cf_releases: list[dict[str, Any]]) -> bytes:
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in cf_releases)
    return gzip.compress(lines.encode("utf-8"), mtime=0)


class RangeServer:
    """Serves one file, honouring Range and If-Range like a static file server."""

    def __init__(self, content: bytes, etag: str = '"v1"') -> None:
        self.content = content
        self.etag = etag
        self.ranges: list[str | None] = []

    def handle(self, request: Request) -> Response:
        wanted = request.headers.get("Range")
        self.ranges.append(wanted)
        if_range = request.headers.get("If-Range")
        headers = {"ETag": self.etag, "Accept-Ranges": "bytes"}
        if wanted and (if_range is None or if_range == self.etag):
            match = re.fullmatch(r"bytes=(\d+)-", wanted)
            assert match
            first = int(match.group(1))
            if first >= len(self.content):
                return Response(
                    b"", status=416, headers={"Content-Range": f"bytes */{len(self.content)}"}
                )
            headers["Content-Range"] = f"bytes {first}-{len(self.content) - 1}/{len(self.content)}"
            return Response(self.content[first:], status=206, headers=headers)
        return Response(self.content, status=200, headers=headers)


def url_of(httpserver: HTTPServer) -> str:
    return httpserver.url_for(PATH) + "?name=full.jsonl.gz"


def test_a_local_file_is_used_in_place(tmp_path: Path, bulk_bytes: bytes) -> None:
    local = tmp_path / "uk.jsonl.gz"
    local.write_bytes(bulk_bytes)
    summary = fetch_bulk(local, raw_dir=tmp_path / "raw")
    assert summary.paths == [local]
    assert not (tmp_path / "raw").exists()
    with pytest.raises(FetchError, match="no such file"):
        fetch_bulk(tmp_path / "missing.jsonl", raw_dir=tmp_path / "raw")


def test_a_url_is_streamed_into_the_raw_store(
    httpserver: HTTPServer, tmp_path: Path, bulk_bytes: bytes
) -> None:
    server = RangeServer(bulk_bytes)
    httpserver.expect_request(PATH).respond_with_handler(server.handle)
    summary = fetch_bulk(url_of(httpserver), raw_dir=tmp_path / "raw", clock=FakeClock())

    target = summary.paths[0]
    assert target.parent == tmp_path / "raw" / "bulk"
    assert target.name.endswith("-full.jsonl.gz")
    assert target.read_bytes() == bulk_bytes
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no .part left over
    assert summary.bytes_downloaded == len(bulk_bytes)

    again = fetch_bulk(url_of(httpserver), raw_dir=tmp_path / "raw", clock=FakeClock())
    assert again.paths == [target] and again.bytes_downloaded == 0
    assert server.ranges == [None]


def test_an_interrupted_download_resumes_with_a_range_request(
    httpserver: HTTPServer, tmp_path: Path, bulk_bytes: bytes
) -> None:
    server = RangeServer(bulk_bytes)
    httpserver.expect_request(PATH).respond_with_handler(server.handle)

    class Crash(Exception):
        pass

    class CrashMidway(FetchReporter):
        def download_progress(self, received: int, total: int | None) -> None:
            if received >= 4096:
                raise Crash

    raw_dir = tmp_path / "raw"
    with pytest.raises(Crash):
        fetch_bulk(url_of(httpserver), raw_dir=raw_dir, reporter=CrashMidway(), chunk_size=1024)
    partial = next((raw_dir / "bulk").glob("*.part"))
    assert partial.stat().st_size == 4096

    summary = fetch_bulk(url_of(httpserver), raw_dir=raw_dir, chunk_size=1024)

    assert summary.resumed
    assert server.ranges == [None, "bytes=4096-"]
    assert summary.paths[0].read_bytes() == bulk_bytes
    assert summary.bytes_downloaded == len(bulk_bytes) - 4096


def test_a_file_changed_on_the_server_is_fetched_whole_again(
    httpserver: HTTPServer, tmp_path: Path, bulk_bytes: bytes
) -> None:
    server = RangeServer(bulk_bytes, etag='"v2"')
    httpserver.expect_request(PATH).respond_with_handler(server.handle)
    url = url_of(httpserver)
    target = tmp_path / "raw" / "bulk" / file_name_for(url)
    target.parent.mkdir(parents=True)
    target.with_name(target.name + ".part").write_bytes(b"stale bytes from version one")
    target.with_name(target.name + ".part.json").write_text(
        json.dumps({"url": url, "etag": '"v1"'})
    )

    summary = fetch_bulk(url, raw_dir=tmp_path / "raw")

    assert server.ranges == ["bytes=28-"]  # asked to resume, but If-Range did not match
    assert summary.paths[0].read_bytes() == bulk_bytes


def test_a_complete_part_file_is_finished_on_416(
    httpserver: HTTPServer, tmp_path: Path, bulk_bytes: bytes
) -> None:
    server = RangeServer(bulk_bytes)
    httpserver.expect_request(PATH).respond_with_handler(server.handle)
    url = url_of(httpserver)
    target = tmp_path / "raw" / "bulk" / file_name_for(url)
    target.parent.mkdir(parents=True)
    target.with_name(target.name + ".part").write_bytes(bulk_bytes)
    target.with_name(target.name + ".part.json").write_text(
        json.dumps({"url": url, "etag": '"v1"'})
    )

    summary = fetch_bulk(url, raw_dir=tmp_path / "raw")

    assert summary.paths[0].read_bytes() == bulk_bytes


def test_a_missing_bulk_url_is_a_clear_error(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request(PATH).respond_with_data("Not Found", status=404)
    with pytest.raises(PermanentHttpError, match=r"HTTP 404 .* from http://.*/download\?name="):
        fetch_bulk(url_of(httpserver), raw_dir=tmp_path / "raw")
