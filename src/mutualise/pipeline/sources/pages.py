"""Reading just enough of a fetched page: its text encoding, release count and next link.

Pages are stored before anything here runs. Nothing in this module may fail on a page the
publishers really send: Find a Tender has served `1e9999` (orjson rejects it, the standard
library reads it as infinity) and numbers written with a space as a thousands separator
(`250 000,`), which no JSON parser accepts. For those we fall back to a regular-expression
scan, good enough for the next link and a release count; the full lenient parse is the
ingest's job.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

UTF8_BOM = b"\xef\xbb\xbf"

# Labels that, like a browser (WHATWG Encoding), we read as Windows-1252: a superset of
# ISO-8859-1 that also maps 0x80-0x9F to the curly quotes and dashes people actually type.
WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"}


@dataclass(frozen=True)
class DecodedBody:
    text: str
    charset: str  # the codec that decoded the body
    declared: str | None  # the charset named by Content-Type, if any


def charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    return None


def decode_body(content: bytes, content_type: str | None = None) -> DecodedBody:
    """Decode by the declared charset; if that fails, UTF-8, then Windows-1252, then Latin-1."""
    declared = charset_of(content_type)
    if content.startswith(UTF8_BOM):
        content = content[len(UTF8_BOM) :]
    candidates: list[str] = []
    if declared:
        candidates.append("cp1252" if declared in WINDOWS_1252_LABELS else declared)
    candidates += ["utf-8", "cp1252", "latin-1"]
    for codec in dict.fromkeys(candidates):
        try:
            return DecodedBody(content.decode(codec), codec, declared)
        except (UnicodeDecodeError, LookupError):
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def as_utf8(content: bytes, content_type: str | None = None) -> tuple[bytes, DecodedBody]:
    """The body as UTF-8 bytes: unchanged when it already is UTF-8, else transcoded."""
    decoded = decode_body(content, content_type)
    if decoded.charset == "utf-8" and not content.startswith(UTF8_BOM):
        return content, decoded
    return decoded.text.encode("utf-8"), decoded


@dataclass(frozen=True)
class PageInfo:
    releases: int
    next_url: str | None
    valid_json: bool


NEXT_LINK = re.compile(r'"links"\s*:\s*\{[^{}]*?"next"\s*:\s*"((?:[^"\\]|\\.)*)"', re.DOTALL)
OCID_KEY = re.compile(rb'"ocid"\s*:')


def load_json(content: bytes) -> Any:
    """Parse strictly (orjson), then as the standard library does (accepts 1e9999)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def inspect_page(content: bytes) -> PageInfo:
    """Count the releases on a release-package page and find its `links.next`."""
    try:
        data = load_json(content)
    except (ValueError, UnicodeDecodeError):
        return _scan(content)
    if not isinstance(data, dict):
        return PageInfo(0, None, valid_json=True)
    releases = data.get("releases")
    count = len(releases) if isinstance(releases, list) else 0
    links = data.get("links")
    next_url = links.get("next") if isinstance(links, dict) else None
    return PageInfo(count, next_url if isinstance(next_url, str) and next_url else None, True)


def _scan(content: bytes) -> PageInfo:
    text = content.decode("utf-8", errors="replace")
    # The links object normally sits at the end of the package; take the last match.
    matches = NEXT_LINK.findall(text)
    next_url = None
    if matches:
        try:
            next_url = json.loads(f'"{matches[-1]}"')
        except ValueError:
            next_url = matches[-1]
    return PageInfo(len(OCID_KEY.findall(content)), next_url or None, valid_json=False)


def cursor_of(next_url: str) -> str | None:
    """The `cursor` query parameter of a next link, if it has one."""
    values = parse_qs(urlsplit(next_url).query).get("cursor")
    return values[0] if values else None
