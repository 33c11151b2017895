"""Reading OCDS JSON from files: JSON documents, JSON Lines, concatenated JSON, .gz and .zip.

Every value read is yielded with where it came from, or as a `BadInput` saying why it could not
be parsed, so one broken line never stops a run.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import ijson
import numpy as np
import orjson
from ijson.common import ObjectBuilder
from isal import igzip, isal_zlib

# Files bigger than this are streamed with ijson instead of being parsed in one go.
WHOLE_FILE_LIMIT = 256 * 1024 * 1024
# How much of a file is looked at to tell JSON Lines from a JSON document: a JSON Lines file's
# first line must end within it (OCDS releases run to hundreds of kB on one line).
DETECT_BYTES = 16 * 1024 * 1024
# Zip archives are read member by member, never unpacked to disk. These caps refuse zip bombs
# (a few MB that inflate to many GB) before they are read: OCDS JSON compresses about 10 to 30
# times, so a member inflating more than MAX_COMPRESSION_RATIO times is not OCDS data. Members
# under RATIO_CHECK_BYTES are too small to hurt, whatever their ratio.
MAX_ARCHIVE_BYTES = 64 * 1024**3
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_BYTES = 16 * 1024 * 1024
# What reading a damaged file raises: not gzip or zip at all, truncated, or corrupt inside.
READ_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    cast(type[Exception], isal_zlib.error),
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
)

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
    code: str = "malformed_json"  # the quarantine reason code; others are about the whole file


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
    except orjson.JSONDecodeError as error:
        if not _may_be_quirk(error):
            raise
        fixed = fix_quirks(data)
        if fixed == data:
            raise
        return orjson.loads(fixed)


def _may_be_quirk(error: Exception) -> bool:
    """Whether a parse error is the kind a quirk causes: an infinite number, or a number with
    a space in it where a comma was expected. Other errors (a line cut off, a stray byte) are not
    fixed by `fix_quirks`, and trying costs seconds on a 100 MB line."""
    message = str(error)
    return "infinity" in message or "expected ','" in message or "Expecting ','" in message


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
    """Every top-level JSON value in a file (or in each member of a zip).

    A file that cannot be read (not really gzip or zip, truncated, corrupt) ends with a BadInput
    saying so, after the values read before the damage.
    """
    read = 0
    try:
        for value in _iter_file(path):
            read += 1
            yield value
    except READ_ERRORS as error:
        yield unreadable(str(path), error, f"{read:,} values")


def unreadable(label: str, error: BaseException, after: str) -> BadInput:
    """Why a file could not be read to its end (after what), as a BadInput for the whole file."""
    if isinstance(error, EOFError):
        reason = f"the compressed file ends early (truncated?) after {after}"
        code = "truncated_file"
    else:
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        reason = f"the file cannot be read after {after}: {detail}"
        code = "unreadable_file"
    return BadInput(Position(label), reason, "", code)


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member must not be read, or None."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in name.split("/"):
        return f"unsafe member name {info.filename!r} (an absolute path or one with '..')"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_CHECK_BYTES and ratio > MAX_COMPRESSION_RATIO:
        return (
            f"member {info.filename!r} inflates {ratio:,.0f} times ({info.file_size:,} bytes), "
            f"more than {MAX_COMPRESSION_RATIO} times: a zip bomb, not OCDS data"
        )
    return None


def _iter_zip(path: Path) -> Iterator[tuple[Position, Any] | BadInput]:
    with zipfile.ZipFile(path) as archive:
        members = sorted(archive.infolist(), key=lambda info: info.filename)
        total = sum(info.file_size for info in members)
        if total > MAX_ARCHIVE_BYTES:
            reason = (
                f"the archive inflates to {total:,} bytes, more than the "
                f"{MAX_ARCHIVE_BYTES // 1024**3} GB we read from one archive: unpack it first"
            )
            yield BadInput(Position(str(path)), reason, "", "unsafe_archive")
            return
        for info in members:
            member = info.filename
            if member.endswith("/") or not is_ocds_file(Path(member)):
                continue
            label = f"{path}!{member}"
            unsafe = _unsafe_member(info)
            if unsafe is not None:
                yield BadInput(Position(label), unsafe, "", "unsafe_archive")
                continue
            yield from _iter_member(archive, info, label)


def _iter_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str
) -> Iterator[tuple[Position, Any] | BadInput]:
    with archive.open(info) as raw:
        if info.filename.lower().endswith(".gz"):
            yield from _iter_gzip(raw, label)
        else:
            yield from _iter_stream(raw, label, size=info.file_size)


def _iter_file(path: Path) -> Iterator[tuple[Position, Any] | BadInput]:
    name = path.name.lower()
    if name.endswith(".zip"):
        yield from _iter_zip(path)
        return
    if name.endswith(".gz"):
        with path.open("rb") as raw:
            yield from _iter_gzip(raw, str(path))
        return
    with path.open("rb") as stream:
        yield from _iter_stream(stream, str(path), size=path.stat().st_size)


def _iter_gzip(raw: IO[bytes], label: str) -> Iterator[tuple[Position, Any] | BadInput]:
    """The values of a gzip stream; a truncated one gives the values before the cut, then the
    EOFError (which `iter_values` reports)."""
    with gzip.open(raw, "rb") as stream:
        tolerant = _UntilTruncated(stream)
        yield from _iter_stream(tolerant, label, size=None)
        if tolerant.error is not None:
            raise tolerant.error


class _UntilTruncated(io.RawIOBase):
    """A gzip stream that ends where a truncated file's data ends, keeping the EOFError.

    Reading a truncated gzip file raises EOFError and drops what the failing read had already
    decompressed; reading in small steps (read1) keeps every byte before the cut.
    """

    def __init__(self, stream: gzip.GzipFile) -> None:
        self.stream = stream
        self.error: EOFError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self.error is None:
            try:
                data = self.stream.read1(len(view) - filled)
            except EOFError as error:
                self.error = error
                break
            if not data:
                break
            view[filled : filled + len(data)] = data
            filled += len(data)
        return filled


def _iter_stream(
    stream: IO[bytes] | gzip.GzipFile | io.RawIOBase, label: str, size: int | None
) -> Iterator[tuple[Position, Any] | BadInput]:
    # A big buffer, so that peek() shows a long first line whole.
    buffered = io.BufferedReader(cast(Any, stream), buffer_size=DETECT_BYTES)
    head = buffered.peek(DETECT_BYTES)[:DETECT_BYTES]
    if head.startswith(codecs.BOM_UTF8):  # Windows tools write one; it is no part of the JSON
        buffered.read(len(codecs.BOM_UTF8))
        head = head[len(codecs.BOM_UTF8) :]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        reason = "the file is UTF-16 or UTF-32 text: OCDS JSON must be UTF-8"
        yield BadInput(Position(label, offset=0), reason, "", "wrong_encoding")
        return
    if _parses(head.split(b"\n", 1)[0].strip()):
        yield from _iter_lines(buffered, label)
    elif size is not None and size > WHOLE_FILE_LIMIT:
        yield from _iter_streamed_document(buffered, label)
    elif size is None:  # compressed: read no more than the limit, so a gzip bomb cannot fill memory
        data = buffered.read(WHOLE_FILE_LIMIT + 1)
        if len(data) > WHOLE_FILE_LIMIT:
            yield from _iter_streamed_document(_Rejoined(data, buffered), label)
        else:
            yield from _iter_documents(data, label)
    else:
        yield from _iter_documents(buffered.read(), label)


class _Rejoined:
    """Bytes already read from a stream, then the rest of it: one stream again (for ijson)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head: bytes | None = head
        self.position = 0
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        if self.head is None:
            return self.rest.read(size)
        end = len(self.head) if size < 0 else self.position + size
        chunk = self.head[self.position : end]
        self.position += len(chunk)
        if self.position >= len(self.head):
            self.head = None  # let the big block go
        return chunk if chunk or size == 0 else self.rest.read(size)


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


NEWLINE = ord("\n")


class FileChangedError(OSError):
    """A file changed between the reads of one run."""


@dataclass(frozen=True)
class FileSlice:
    """Lines of a plain file, by place: a worker process reads them itself, which saves copying
    them through a pipe."""

    path: str
    start: int
    length: int
    lines: int  # line ends in it

    def read(self) -> bytes:
        with open(self.path, "rb") as handle:
            data = os.pread(handle.fileno(), self.length, self.start)
        if len(data) != self.length or data.count(b"\n") != self.lines:
            raise FileChangedError(f"{self.path} changed while it was being read")
        return data


BlockData = bytes | FileSlice  # a block of lines, or where to read it


def block_lines(block: BlockData) -> int:
    """The line ends in a block."""
    return block.lines if isinstance(block, FileSlice) else block.count(b"\n")


def jsonl_blocks(path: Path, block_bytes: int) -> Iterator[tuple[str, BlockData, int, int]] | None:
    """A JSON Lines file (plain or gzipped) in blocks cut at line ends:
    (label, block, byte offset of the block, number of its first line). A plain file's blocks
    are `FileSlice`s; a gzipped file's are the decompressed bytes.

    None if `iter_values` would not read the file as JSON Lines (a zip, or a first line that is
    not a JSON value of its own), so the caller falls back to `iter_values`. Labels, offsets (in
    the decompressed stream) and line numbers are the ones `iter_values` gives.
    """
    name = path.name.lower()
    if name.endswith(".zip"):
        return None
    compressed = name.endswith(".gz")
    try:
        with igzip.open(path, "rb") if compressed else path.open("rb") as stream:
            first_line = stream.read(DETECT_BYTES).split(b"\n", 1)[0]
    except READ_ERRORS:
        return None  # `iter_values` says what is wrong with the file
    if not _parses(first_line.strip()):
        return None
    return _blocks(path, block_bytes) if compressed else _slices(path, block_bytes)


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[str, BlockData, int, int]]:
    label = str(path)
    start, line = 0, 1
    # ISA-L's gzip: the same stream as the gzip module, read 2-3 times faster (big files only;
    # small ones keep the gzip module, whose short reads keep every byte before a cut).
    with igzip.open(path, "rb") as stream:
        carry = b""
        # A line longer than a block, in parts: joined once, not copied again per block.
        parts: list[bytes] = []
        while True:
            block = stream.read(block_bytes)
            if not block:
                break
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                parts.append(block)  # no line end in this block: read on
                continue
            data = b"".join([carry, *parts, block[:cut]])
            parts = []
            yield label, data, start, line
            line += data.count(b"\n")
            start += len(data)
            carry = block[cut:]
        rest = b"".join([carry, *parts])
        if rest:
            yield label, rest, start, line


def _slices(path: Path, block_bytes: int) -> Iterator[tuple[str, BlockData, int, int]]:
    """A plain file's blocks by place: read here only to find the line ends."""
    label = str(path)
    start, line = 0, 1
    pending = 0  # bytes after `start` read but not yet given out (a line not ended yet)
    buffer = bytearray(block_bytes)
    with path.open("rb", buffering=0) as stream:
        while size := stream.readinto(buffer):
            cut = buffer.rfind(b"\n", 0, size) + 1
            if cut == 0:
                pending += size
                continue
            # numpy counts a few times faster than bytes.count
            lines = int(np.count_nonzero(np.frombuffer(buffer, np.uint8, cut) == NEWLINE))
            yield label, FileSlice(label, start, pending + cut, lines), start, line
            line += lines
            start += pending + cut
            pending = size - cut
    if pending:
        yield label, FileSlice(label, start, pending, 0), start, line


def _iter_documents(data: bytes, label: str) -> Iterator[tuple[Position, Any] | BadInput]:
    """One JSON document, or several concatenated ones."""
    try:
        yield Position(label, offset=0), loads(data)
        return
    except orjson.JSONDecodeError as error:
        first_error = error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:  # refused, not "repaired": nothing is changed silently
        reason = f"the file is not UTF-8 text (byte {error.start}): OCDS JSON must be UTF-8"
        excerpt = _excerpt(data[error.start :])
        yield BadInput(Position(label, offset=error.start), reason, excerpt, "wrong_encoding")
        return
    del data
    # Concatenated JSON: walk value by value with the standard library's raw decoder, read as
    # orjson reads (the same numbers), so every value can be stored.
    decoder = json.JSONDecoder(
        parse_int=_int_as_orjson, parse_float=_finite, parse_constant=_not_a_number
    )
    index = _skip_space(text, 0)
    found = 0
    fixed = False
    while index < len(text):
        try:
            value, end = decoder.raw_decode(text, index)
        except (ValueError, OverflowError, RecursionError) as error:
            if not fixed and _may_be_quirk(error):
                # Fix the Find a Tender quirks from here on only: the values already read were
                # valid, and fixing their text could change what their strings say.
                fixed = True
                text = text[:index] + fix_quirks(text[index:].encode()).decode()
                continue
            yield _bad_value(text, label, index, error, first_error if not found else None)
            return
        yield Position(label, line=text.count("\n", 0, index) + 1, offset=index), value
        found += 1
        index = _skip_space(text, end)


def _int_as_orjson(text: str) -> int | float:
    """An integer as orjson reads it: past 64 bits it becomes a float (OverflowError past 1e308)."""
    value = int(text)
    return value if -(2**63) <= value < 2**64 else float(value)


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is infinity when parsed as double")
    return value


def _not_a_number(text: str) -> None:
    raise ValueError(f"{text} is not a JSON number")


def _bad_value(
    text: str, label: str, index: int, error: BaseException, first_error: Exception | None
) -> BadInput:
    """Why the value at `index` of concatenated JSON could not be read."""
    where = error.pos if isinstance(error, json.JSONDecodeError) else index
    line = text.count("\n", 0, where) + 1
    if isinstance(error, json.JSONDecodeError):
        detail = str(first_error) if first_error is not None else error.msg
    else:
        detail = _unreadable_value(error)
    reason = f"malformed JSON on line {line}: {detail}"
    return BadInput(Position(label, line=line, offset=index), reason, text[index : index + 300])


def _unreadable_value(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply to read"
    if isinstance(error, OverflowError):
        return "a number too large to read"
    return str(error)


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _iter_streamed_document(
    stream: IO[bytes] | _Rejoined, label: str
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
