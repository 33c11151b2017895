"""Loaders: every container format, positions of bad input, and the Find a Tender number quirks."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutualise.pipeline.jsonio import (
    BadInput,
    FileChangedError,
    FileSlice,
    expand_paths,
    fix_quirks,
    iter_values,
    jsonl_blocks,
    loads,
)

RELEASE = {"ocid": "ocds-x-1", "id": "1", "date": "2025-01-01T00:00:00Z", "tag": ["tender"]}


def values(path: Path) -> list:
    return list(iter_values(path))


def test_json_lines_with_a_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(orjson.dumps(RELEASE) + b"\n{broken\n" + orjson.dumps(RELEASE) + b"\n")
    found = values(path)
    assert [type(v) for v in found] == [tuple, BadInput, tuple]
    bad = found[1]
    assert bad.position.line == 2 and bad.position.offset == len(orjson.dumps(RELEASE)) + 1
    assert "line 2" in bad.reason


def test_pretty_package_concatenated_gz_and_zip(tmp_path: Path) -> None:
    package = {"version": "1.1", "releases": [RELEASE]}
    pretty = orjson.dumps(package, option=orjson.OPT_INDENT_2)
    (tmp_path / "package.json").write_bytes(pretty)
    (tmp_path / "many.json").write_bytes(pretty + b"\n" + pretty)
    (tmp_path / "package.json.gz").write_bytes(gzip.compress(pretty))
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as archive:
        archive.writestr("inside/a.json", pretty)
        archive.writestr("inside/readme.txt", "not OCDS")
    assert values(tmp_path / "package.json")[0][1] == package
    assert [v[1] for v in values(tmp_path / "many.json")] == [package, package]
    assert values(tmp_path / "package.json.gz")[0][1] == package
    zipped = values(tmp_path / "bundle.zip")
    assert len(zipped) == 1 and zipped[0][0].file.endswith("bundle.zip!inside/a.json")
    assert len(expand_paths([tmp_path])) == 4


def test_large_package_is_streamed(tmp_path: Path, monkeypatch) -> None:
    import mutualise.pipeline.jsonio as jsonio

    monkeypatch.setattr(jsonio, "WHOLE_FILE_LIMIT", 10)
    path = tmp_path / "big.json"
    path.write_bytes(
        orjson.dumps({"version": "1.0", "releases": [RELEASE, RELEASE]}, option=orjson.OPT_INDENT_2)
    )
    found = values(path)
    assert [v[1] for v in found] == [{"releases": [RELEASE], "version": "1.0"}] * 2


def test_find_a_tender_quirks() -> None:
    assert loads(b'{"amount": 1e9999, "b": [1e9999]}') == {"amount": None, "b": [None]}
    assert loads(b'{"amount": 25 000, "c": 1 250 000}') == {"amount": 25000, "c": 1250000}
    assert fix_quirks(b'{"t": "a 000, b"}') == b'{"t": "a 000, b"}'  # text is left alone


@given(st.integers(0, 10**12))
def test_spaced_thousands_parse_to_the_number(number: int) -> None:
    spaced = f"{number:,}".replace(",", " ")
    assert loads(f'{{"amount": {spaced}, "currency": "GBP"}}'.encode()) == {
        "amount": number,
        "currency": "GBP",
    }


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=8), st.none()),
        max_size=4,
    )
)
def test_quirk_fixing_never_changes_valid_json(value: dict) -> None:
    data = orjson.dumps(value)
    assert loads(data) == value


def test_a_plain_file_in_blocks_is_cut_at_line_ends_by_place(tmp_path: Path) -> None:
    """Blocks of a plain file are slices the workers read themselves: together they are the
    file, each ends a line, and each knows its first line's number (a line longer than a block
    runs on into the next slice)."""
    lines = [orjson.dumps({**RELEASE, "id": str(n), "pad": "x" * (n * 7 % 90)}) for n in range(300)]
    lines[120] = orjson.dumps({**RELEASE, "pad": "y" * 2_000})  # longer than a block
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"\n".join(lines))  # no line end after the last line
    blocks = list(jsonl_blocks(path, 500) or [])
    assert all(isinstance(block, FileSlice) for _, block, _, _ in blocks)
    data = [block.read() for _, block, _, _ in blocks]  # type: ignore[union-attr]
    assert b"".join(data) == path.read_bytes()
    assert all(part.endswith(b"\n") for part in data[:-1])
    starts = [start for _, _, start, _ in blocks]
    assert starts == [sum(len(part) for part in data[:n]) for n in range(len(data))]
    first_lines = [first for _, _, _, first in blocks]
    assert first_lines == [
        1 + sum(part.count(b"\n") for part in data[:n]) for n in range(len(data))
    ]


def test_a_file_changed_between_the_reads_is_said_so(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps({**RELEASE, "id": str(n)}) for n in range(50)))
    _, block, _, _ = next(iter(jsonl_blocks(path, 1_000) or []))
    assert isinstance(block, FileSlice)
    path.write_bytes(b"[]\n" * 500)
    with pytest.raises(FileChangedError, match="changed while it was being read"):
        block.read()
