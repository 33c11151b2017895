"""Reading OCDS JSON from files: JSON documents, JSON Lines, concatenated JSON, .gz and .zip.

Every value read is yielded with where it came from, or as a `BadInput` saying why it could not
be parsed, so one broken line never stops a run.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import ijson
import orjson
from ijson.common import ObjectBuilder

# Files bigger than this are streamed with ijson instead of being parsed in one go.
WHOLE_FILE_LIMIT = 256 * 1024 * 1024

OCDS_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz", ".gz", ".zip")

# Find a Tender quirks. `1e9999` overflows a double: it stands for "no real number", so it becomes
# null. `25 000,` is a number written with a thousands separator: the spaces are dropped.
_INFINITY = re.compile(rb"(?<=[:\[,])(\s*)-?1e\+?9999\b")
_SPACED_NUMBER = re.compile(rb"(?<=[:\[,])(\s*)(-?\d{1,3})((?: \d{3})+)(?=\s*[,}\]])")


@dataclass(frozen=True)
class Position:
    """Where a value was found: the file (and zip member), line, byte offset or index."""

    file: str
    line: int | None = None
    offset: int | None = None
    index: int | None = None

    def describe(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.index is not None:
            parts.append(f"item {self.index}")
        return ", ".join(parts)


@dataclass(frozen=True)
class BadInput:
    """A value that could not be read."""

    position: Position
    reason: str
    excerpt: str


def fix_quirks(data: bytes) -> bytes:
    """Rewrite the known non-JSON numbers of Find a Tender into valid JSON."""
    data = _INFINITY.sub(rb"\1null", data)
    return _SPACED_NUMBER.sub(
        lambda m: m.group(1) + m.group(2) + m.group(3).replace(b" ", b""), data
    )


def loads(data: bytes) -> Any:
    """Parse JSON with orjson, retrying once with the Find a Tender quirks fixed."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        fixed = fix_quirks(data)
        if fixed == data:
            raise
        return orjson.loads(fixed)


def is_ocds_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(OCDS_SUFFIXES)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files to read: each file given, and every OCDS file under each directory, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_ocds_file(p)))
        else:
            found.append(path)
    return found


def iter_values(path: Path) -> Iterator[tuple[Position, Any] | BadInput]:
    """Every top-level JSON value in a file (or in each member of a zip)."""
    name = path.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                if member.endswith("/") or not is_ocds_file(Path(member)):
                    continue
                label = f"{path}!{member}"
                with archive.open(member) as raw:
                    if member.lower().endswith(".gz"):
                        with gzip.open(raw) as unzipped:
                            yield from _iter_stream(unzipped, label, size=None)
                    else:
                        yield from _iter_stream(raw, label, size=archive.getinfo(member).file_size)
        return
    if name.endswith(".gz"):
        with gzip.open(path, "rb") as stream:
            yield from _iter_stream(stream, str(path), size=None)
        return
    with path.open("rb") as stream:
        yield from _iter_stream(stream, str(path), size=path.stat().st_size)


def _iter_stream(
    stream: IO[bytes] | gzip.GzipFile, label: str, size: int | None
) -> Iterator[tuple[Position, Any] | BadInput]:
    buffered = (
        stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(cast(Any, stream))
    )
    first_line = buffered.peek(1 << 16)[: 1 << 16].split(b"\n", 1)[0]
    if _parses(first_line.strip()):
        yield from _iter_lines(buffered, label)
    elif size is not None and size > WHOLE_FILE_LIMIT:
        yield from _iter_streamed_document(buffered, label)
    else:
        yield from _iter_documents(buffered.read(), label)


def _parses(line: bytes) -> bool:
    if not line.startswith((b"{", b"[")):
        return False
    try:
        loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _excerpt(data: bytes) -> str:
    return data[:300].decode("utf-8", "replace")


def _iter_lines(stream: IO[bytes], label: str) -> Iterator[tuple[Position, Any] | BadInput]:
    """JSON Lines: a broken line is reported and the next line is read."""
    offset = 0
    for number, line in enumerate(stream, 1):
        text = line.strip()
        if text:
            yield parse_line(text, label, number, offset)
        offset += len(line)


def parse_line(
    text: bytes, label: str, number: int, offset: int
) -> tuple[Position, Any] | BadInput:
    """One (stripped, non-empty) line of JSON Lines, parsed, or why it could not be."""
    position = Position(label, line=number, offset=offset)
    try:
        return position, loads(text)
    except orjson.JSONDecodeError as error:
        return BadInput(position, f"malformed JSON on line {number}: {error}", _excerpt(text))


def jsonl_blocks(path: Path, block_bytes: int) -> Iterator[tuple[str, bytes, int, int]] | None:
    """A JSON Lines file (plain or gzipped) in blocks cut at line ends:
    (label, bytes, byte offset of the block, number of its first line).

    None if `iter_values` would not read the file as JSON Lines (a zip, or a first line that is
    not a JSON value of its own), so the caller falls back to `iter_values`. Labels, offsets (in
    the decompressed stream) and line numbers are the ones `iter_values` gives.
    """
    name = path.name.lower()
    if name.endswith(".zip"):
        return None
    compressed = name.endswith(".gz")
    with gzip.open(path, "rb") if compressed else path.open("rb") as stream:
        first_line = stream.read(1 << 16).split(b"\n", 1)[0]
    if not _parses(first_line.strip()):
        return None
    return _blocks(path, compressed, block_bytes)


def _blocks(
    path: Path, compressed: bool, block_bytes: int
) -> Iterator[tuple[str, bytes, int, int]]:
    label = str(path)
    start, line = 0, 1
    with gzip.open(path, "rb") if compressed else path.open("rb") as stream:
        carry = b""
        while True:
            block = stream.read(block_bytes)
            if not block:
                break
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data  # a line longer than a block: read on
                continue
            yield label, data[:cut], start, line
            line += data.count(b"\n", 0, cut)
            start += cut
            carry = data[cut:]
        if carry:
            yield label, carry, start, line


def _iter_documents(data: bytes, label: str) -> Iterator[tuple[Position, Any] | BadInput]:
    """One JSON document, or several concatenated ones."""
    try:
        yield Position(label, offset=0), loads(data)
        return
    except orjson.JSONDecodeError as error:
        first_error = error
    # Concatenated JSON: walk value by value with the standard library's raw decoder.
    text = fix_quirks(data).decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    if index >= len(text):
        return
    found = 0
    while index < len(text):
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as error:
            line = text.count("\n", 0, error.pos) + 1
            reason = f"malformed JSON on line {line}: {error.msg if found else first_error}"
            yield BadInput(
                Position(label, line=line, offset=index), reason, text[index : index + 300]
            )
            return
        yield Position(label, line=text.count("\n", 0, index) + 1, offset=index), value
        found += 1
        index = _skip_space(text, end)


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _iter_streamed_document(
    stream: IO[bytes], label: str
) -> Iterator[tuple[Position, Any] | BadInput]:
    """A very large package: stream its `releases` or `records` one at a time with ijson.

    Each item is yielded as a one-item package carrying the package's `version` (when it comes
    before the array, as the schema's key order has it), so the 1.0 → 1.1 upgrade still applies.
    """
    builder: ObjectBuilder | None = None
    array = ""
    version = None
    index = 0
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True):
            if builder is not None:
                builder.event(event, value)
                if prefix == f"{array}.item" and event == "end_map":
                    package = {array: [builder.value]}
                    if version is not None:
                        package["version"] = version
                    yield Position(label, index=index), package
                    builder = None
                    index += 1
            elif prefix == "version" and event == "string":
                version = value
            elif prefix in ("releases.item", "records.item") and event == "start_map":
                array = prefix.split(".")[0]
                builder = ObjectBuilder()
                builder.event(event, value)
    except ijson.JSONError as error:
        yield BadInput(
            Position(label, index=index), f"malformed JSON after item {index}: {error}", ""
        )
