"""Bulk files: the Open Contracting Partnership data registry's JSON Lines of compiled releases.

A local path is used where it lies (nothing is copied). An http(s) URL is streamed into
`{raw_dir}/bulk/` as `{name}.part`, resumed with an HTTP Range request after an
interruption (guarded by If-Range, so a file that changed on the server is fetched
whole again), and renamed to its final name only once complete. Whether the file is
plain, .gz or .zip is the ingest's concern; nothing here reads its contents.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from .client import PoliteClient, RatePolicy
from .clock import Clock, SystemClock
from .errors import FetchError, NetworkError, PermanentHttpError
from .report import FetchReporter, FetchSummary
from .store import atomic_write, default_raw_dir

SOURCE = "bulk"
CHUNK_SIZE = 1 << 20
BULK_POLICY = RatePolicy(
    min_interval=0.0,
    rate_limit_statuses=frozenset({429}),
    fixed_wait=None,
    backoff_start=60.0,
    max_rate_limit_waits=5,
)


def is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def file_name_for(url: str) -> str:
    """A stable, filesystem-safe name for a download: a short hash of the URL and its name.

    The data registry serves files as `.../download?name=2024.jsonl.gz`, so the `name`
    parameter wins over the last path segment.
    """
    parts = urlsplit(url)
    named = parse_qs(parts.query).get("name")
    base = named[0] if named else unquote(parts.path.rsplit("/", 1)[-1])
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "download"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:10]
    return f"{digest}-{base}"


def fetch_bulk(
    file_or_url: str | Path,
    *,
    raw_dir: Path | None = None,
    clock: Clock | None = None,
    policy: RatePolicy | None = None,
    http: httpx.Client | None = None,
    reporter: FetchReporter | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> FetchSummary:
    """Make a bulk file available on local disk and return it in `summary.paths`."""
    text = str(file_or_url).strip()
    summary = FetchSummary(source=SOURCE)
    if not is_url(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise FetchError(f"no such file: {path}")
        summary.paths.append(path)
        summary.note = "local file used in place"
        return summary

    store_dir = Path(raw_dir or default_raw_dir()) / SOURCE
    target = store_dir / file_name_for(text)
    summary.state_path = target.with_name(target.name + ".part.json")
    if target.exists():
        summary.paths.append(target)
        summary.note = f"already downloaded: {target}"
        return summary

    reporter = reporter or FetchReporter()
    clock = clock or SystemClock()
    client = PoliteClient(policy or BULK_POLICY, clock=clock, http=http, on_wait=reporter.waiting)
    try:
        _download(text, target, client, clock, reporter, summary, chunk_size)
    finally:
        summary.rate_limit_waits = client.rate_limit_waits
        summary.rate_limit_seconds = client.rate_limit_seconds
        summary.retries = client.retries
        if http is None:
            client.close()
    summary.paths.append(target)
    return summary


def _download(
    url: str,
    target: Path,
    client: PoliteClient,
    clock: Clock,
    reporter: FetchReporter,
    summary: FetchSummary,
    chunk_size: int,
) -> None:
    partial = target.with_name(target.name + ".part")
    meta_path = target.with_name(target.name + ".part.json")
    meta = _read_meta(meta_path)
    if meta.get("url") != url and partial.exists():
        partial.unlink()
    received = partial.stat().st_size if partial.exists() else 0
    summary.resumed = received > 0
    failures = 0

    while True:
        headers: dict[str, str] = {}
        if received:
            headers["Range"] = f"bytes={received}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if validator:
                headers["If-Range"] = validator
        try:
            response = client.open_stream(url, headers)
        except PermanentHttpError as exc:
            if exc.status == 416 and received:
                break  # the server has nothing after the bytes we hold: complete
            raise
        with contextlib.closing(response):
            total = _expected_total(response)
            if response.status_code == 206:
                mode = "ab"
            else:
                # A full response: start again from the first byte.
                received, mode = 0, "wb"
                meta = {
                    "url": url,
                    "etag": response.headers.get("ETag"),
                    "last_modified": response.headers.get("Last-Modified"),
                }
                atomic_write(meta_path, json.dumps(meta, indent=2).encode("utf-8"))
            try:
                with partial.open(mode) as stream:
                    for chunk in response.iter_bytes(chunk_size):
                        stream.write(chunk)
                        received += len(chunk)
                        summary.bytes_downloaded += len(chunk)
                        reporter.download_progress(received, total)
            except httpx.TransportError as exc:
                failures += 1
                if failures > client.policy.max_retries:
                    raise NetworkError(f"download of {url} kept failing: {exc}") from exc
                seconds = min(client.policy.retry_backoff_start * 2 ** (failures - 1), 60.0)
                reporter.waiting(seconds, "connection lost; resuming the download")
                clock.sleep(seconds)
                continue
        if total is not None and received < total:
            failures += 1
            if failures > client.policy.max_retries:
                raise NetworkError(f"download of {url} ended early at {received} of {total} bytes")
            continue
        break

    os.replace(partial, target)
    with contextlib.suppress(FileNotFoundError):
        meta_path.unlink()


def _expected_total(response: httpx.Response) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if response.status_code == 206 and "/" in content_range:
        size = content_range.rsplit("/", 1)[1].strip()
        return int(size) if size.isdigit() else None
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and "content-encoding" not in response.headers:
        return int(length)
    return None


def _read_meta(path: Path) -> dict[str, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
