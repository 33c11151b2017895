"""The C fast paths (`native`, `_native.c`) against their Python references.

Each C function either leaves a value to the Python path (None, or a row it lists as left) or
gives exactly what the Python path gives: the same rows, bytes and hashes. These tests compare
both on the real samples, on a synthetic world and on generated and mutated input, including
input orjson refuses (the C parser must never be more lenient than orjson).
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutualise.pipeline import _native, native
from mutualise.pipeline.compile import COMPILED_SCHEMA, PARTITION_SCHEMA, merge_group
from mutualise.pipeline.dates import parse_micros
from mutualise.pipeline.ingest import KEY_FIELDS, _release_key, examine_block
from mutualise.pipeline.jsonio import expand_paths
from mutualise.pipeline.merge import Merger, default_plan
from tests.pipeline.test_merge import lean_release, release

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- JSON: parsing and writing as orjson does ---------------------------------------------------
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def sorted_dump(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@SETTINGS
@given(json_values)
def test_canonical_is_orjson_with_sorted_keys(value: object) -> None:
    for text in (
        orjson.dumps(value),
        json.dumps(value).encode(),
        json.dumps(value, indent=1).encode(),
    ):
        written = _native.canonical(text)
        assert written is None or written == sorted_dump(orjson.loads(text))
    if not _has_exponent_float(value):
        assert _native.canonical(orjson.dumps(value)) == sorted_dump(value)


def _has_exponent_float(value: object) -> bool:
    """Floats whose repr has an exponent are left to Python (orjson and repr write them apart)."""
    if isinstance(value, float):
        return "e" in repr(value)
    if isinstance(value, dict):
        return any(_has_exponent_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_exponent_float(item) for item in value)
    return False


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":1,"a":2}',  # a repeated key: orjson keeps the last
        b"\xef\xbb\xbf{}",  # a byte order mark
        b'{"a":"\\ud800"}',  # a lone surrogate
        b'{"a":"\xed\xa0\x80"}',  # a surrogate written in UTF-8
        b'{"a":"\xff"}',
        b'{"a":1e400}',
        b'{"a":18446744073709551616}',  # beyond 64 bits: orjson reads a float
        b'{"a":-9223372036854775809}',
        b'{"a":[1,2,]}',
        b'{"a":01}',
        b'{"a":1.}',
        b'{"a":-}',
        b'{"a":"\x01"}',
        b'{"a":tru}',
        b'{"a":1}x',
        b"[" * 100 + b"]" * 100,  # deeper than the C parser goes
        b"",
    ],
)
def test_canonical_leaves_what_it_does_not_read_exactly(text: bytes) -> None:
    assert _native.canonical(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'{"b":-0,"a":1.50}', b'{"a":1.5,"b":0}'),
        (b'{"a":"\\u00e9\\/\\n\\u001f\\"\\\\"}', '{"a":"é/\\n\\u001f\\"\\\\"}'.encode()),
        (b'{"a":"\\ud83d\\ude00"}', '{"a":"😀"}'.encode()),
        (b'{"a":18446744073709551615,"b":-9223372036854775808}', None),
        (b' { "z" : [ ] , "y" : { } } ', b'{"y":{},"z":[]}'),
    ],
)
def test_canonical_examples(text: bytes, expected: bytes | None) -> None:
    assert _native.canonical(text) == (expected or sorted_dump(orjson.loads(text)))


def test_canonical_never_reads_what_orjson_refuses() -> None:
    """Random mutations of real lines: the C parser is at least as strict as orjson."""
    lines = SAMPLE_LINES[:40]
    chance = random.Random(5)
    for _ in range(3000):
        line = bytearray(chance.choice(lines))
        for _ in range(chance.randint(1, 3)):
            position = chance.randrange(len(line))
            line[position] = chance.choice(b'{}[]",:\\0123456789eE.-+ntfu\x00\x80\xc3\xff')
        text = bytes(line)
        written = _native.canonical(text)
        try:
            expected = sorted_dump(orjson.loads(text))
        except orjson.JSONDecodeError:
            assert written is None, text
        else:
            assert written is None or written == expected


def test_large_arrays_and_objects_are_read_in_reasonable_time() -> None:
    """Repeated-id checks and merges sort or hash rather than compare every pair."""
    items = [{"id": str(number), "title": "x"} for number in range(60_000)]
    release = {"ocid": "o", "id": "1", "date": "2020-01-01T00:00:00Z", "parties": items}
    block = orjson.dumps(release) + b"\n"
    count, _, left = _native.examine_block(block, "big.jsonl", 0, 1)
    assert (count, left) == (1, [])
    table = _partition_table([release, {**release, "id": "2", "date": "2021-01-01T00:00:00Z"}])
    plan = native.merge_plan(default_plan())
    groups, _, refused = native.compile_sorted(plan, table, _order(table))
    assert (groups, refused) == (1, [])


# -- BLAKE2b, keys and dates --------------------------------------------------------------------
@SETTINGS
@given(st.binary(max_size=700), st.integers(1, 64))
def test_blake2b_is_hashlib(data: bytes, size: int) -> None:
    assert _native.blake2b(data, size) == hashlib.blake2b(data, digest_size=size).digest()


@SETTINGS
@given(
    st.text(min_size=1),
    st.none() | st.text(),
    st.text(),
    st.text("0123456789abcdef", min_size=32, max_size=32),
)
def test_release_key_is_the_python_key(
    ocid: str, release_id: str | None, date: str, digest: str
) -> None:
    assert _native.release_key(ocid, release_id, date, digest) == _python_key(
        ocid, release_id, date, digest
    )


def _python_key(ocid: str, release_id: str | None, date: str, digest: str) -> int:
    previous = native.enabled
    native.enabled = lambda: False  # type: ignore[assignment]
    try:
        return _release_key(ocid, release_id, date, digest)
    finally:
        native.enabled = previous  # type: ignore[assignment]


dates = st.datetimes(
    min_value=datetime(1985, 1, 1),
    max_value=datetime(2105, 12, 31),
    timezones=st.none() | st.just(UTC),
)
offsets = st.sampled_from(["", "Z", "+01:00", "-05:30", "+23:59", "+0100", "+24:00", "z", " "])


@SETTINGS
@given(
    dates, offsets, st.sampled_from(["seconds", "milliseconds", "microseconds", "minutes", "hours"])
)
def test_dates_read_in_c_are_read_as_python_does(moment: datetime, offset: str, spec: str) -> None:
    text = moment.replace(tzinfo=None).isoformat(timespec=spec) + offset
    for candidate in (text, text[:10], text.replace("T", " "), text + "0", text[:-1]):
        micros = _native.date_micros(candidate)
        assert micros is None or micros == parse_micros(candidate), candidate


def test_dates_read_in_c() -> None:
    assert _native.date_micros("2020-02-29T23:59:59.5+01:00") == parse_micros(
        "2020-02-29T23:59:59.5+01:00"
    )
    for text in ("2021-02-29T00:00:00Z", "1989-12-31T23:59:59Z", "2020-01-01T24:00:00Z"):
        assert _native.date_micros(text) is None  # Python decides (and refuses them)


# -- examining blocks at ingest -----------------------------------------------------------------
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ocds"
SAMPLE_LINES = [
    line.strip()
    for path in expand_paths([FIXTURES])
    if path.suffix == ".jsonl"
    for line in path.read_bytes().splitlines()
    if line.strip()
]


def both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch, label: str = "input.jsonl") -> tuple:
    """examine_block with the C module and without: (values, rows in file order, refused)."""
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv("MUTUALISE_NATIVE", flag)
        block = examine_block((label, data, 100, 7, False))
        table = block.releases
        table.validate(full=True)
        order = pc.sort_indices(table, [("value", "ascending"), ("item", "ascending")])
        results.append((block.values, table.take(order).to_pylist(), repr(block.refused)))
    return results[0], results[1]


def test_real_samples_examine_the_same_in_c(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\n".join(SAMPLE_LINES) + b"\n"
    fast, slow = both_ways(data, monkeypatch)
    assert fast == slow and len(fast[1]) >= 300
    monkeypatch.setenv("MUTUALISE_NATIVE", "1")
    count, _, left = _native.examine_block(data, "input.jsonl", 0, 1)
    assert len(left) < count / 10  # most of the real data is read in C


def test_a_synthetic_world_examines_the_same_in_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from mutualise.synth.world import generate_world

    generate_world(tmp_path / "world", releases=600, seed=11)
    data = b"".join(
        gzip.decompress(path.read_bytes())
        for path in sorted((tmp_path / "world" / "ocds").rglob("*.gz"))
    )
    fast, slow = both_ways(data, monkeypatch)
    assert fast == slow and len(fast[1]) >= 550


def base_release(**extra: object) -> dict:
    return {
        "ocid": "ocds-x-1",
        "id": "1",
        "date": "2025-01-01T00:00:00Z",
        "tag": ["tender"],
        "parties": [{"id": "p1", "roles": ["buyer"]}],
        **extra,
    }


ODD_LINES = [
    orjson.dumps(base_release()),
    orjson.dumps(base_release(ocid="")),
    orjson.dumps(base_release(ocid="  ")),
    orjson.dumps(base_release(id=5)),
    orjson.dumps(base_release(id=None)),
    orjson.dumps({k: v for k, v in base_release().items() if k != "id"}),
    orjson.dumps(base_release(date="2025-02-30T00:00:00Z")),
    orjson.dumps(base_release(date="2025-01-01")),
    orjson.dumps(base_release(date="2025-01-01 10:00:00+0100")),
    orjson.dumps(base_release(tag="tender")),
    orjson.dumps(base_release(tag=[1])),
    orjson.dumps(base_release(parties=[{"id": "a"}, {"id": "a"}])),
    orjson.dumps(base_release(parties=[{"id": 1}, {"id": "1"}])),
    orjson.dumps(base_release(parties=[{"id": None}, {"id": None}])),
    orjson.dumps(base_release(parties="x")),
    orjson.dumps(base_release(awards=[{"id": "1"}, {"id": 1}])),
    orjson.dumps(base_release(awards=[{"id": "1"}, "x"])),
    orjson.dumps(base_release(awards=[{"id": 1.5}])),
    orjson.dumps(base_release(tender={"value": {"amount": 1e-7}})),
    orjson.dumps(base_release(tender={"value": {"amount": 12.50}})),
    orjson.dumps(base_release(tender={"title": None, "items": []})),
    b'{"ocid":"ocds-x-2","id":"1","date":"2025-01-01T00:00:00Z","parties":[],"id":"2"}',
    b'{"ocid":"ocds-x-2","id":"1","date":"2025-01-01T00:00:00Z","parties":[],"tender":{"a":1,"a":2}}',
    # OCDS 1.0: a release without parties (read as 1.0; left to Python when the upgrade changes it)
    orjson.dumps(
        {"ocid": "o", "id": "1", "date": "2020-01-01T00:00:00Z", "tender": {"title": "t"}}
    ),
    orjson.dumps({"ocid": "o", "id": "2", "date": "2020-01-01T00:00:00Z", "buyer": {"name": "B"}}),
    orjson.dumps(
        {
            "ocid": "o",
            "id": "3",
            "date": "2020-01-01T00:00:00Z",
            "awards": [{"id": "a", "suppliers": [{"name": "S"}]}],
        }
    ),
    orjson.dumps(
        {
            "ocid": "o",
            "id": "4",
            "date": "2020-01-01T00:00:00Z",
            "contracts": [{"id": "c", "amendment": {"date": "x"}}],
        }
    ),
    # packages and records
    orjson.dumps({"version": "1.1", "releases": [base_release(), base_release(id="2")]}),
    orjson.dumps({"releases": [{"ocid": "o", "id": "1", "date": "2020-01-01T00:00:00Z"}]}),
    orjson.dumps(
        {
            "version": "1.0",
            "releases": [
                {"ocid": "o", "id": "1", "date": "2020-01-01T00:00:00Z", "buyer": {"name": "B"}}
            ],
        }
    ),
    orjson.dumps({"version": 1.1, "releases": [base_release()]}),
    orjson.dumps({"version": "1.1", "releases": [base_release(), base_release(ocid="")]}),
    # a package some of whose releases are left to Python: only those are
    orjson.dumps(
        {
            "version": "1.1",
            "releases": [
                base_release(),
                base_release(id="2", parties=[{"id": "a"}, {"id": "a"}]),
                base_release(id="3", date="2025-01-01"),
                base_release(id="4"),
                base_release(id="5", tender={"value": {"amount": 1e-7}}),
                "not a release",
            ],
        }
    ),
    orjson.dumps(
        {
            "version": "1.0",
            "releases": [
                {"ocid": "o", "id": "1", "date": "2020-01-01T00:00:00Z", "buyer": {"name": "B"}},
                {"ocid": "o", "id": "2", "date": "2020-01-01T00:00:00Z", "parties": []},
                {"ocid": "o", "id": "1", "date": "2020-01-01T00:00:00Z", "buyer": {"name": "C"}},
            ],
        }
    ),
    orjson.dumps({"version": "1.1", "records": [{"ocid": "o", "releases": [base_release()]}]}),
    orjson.dumps({"ocid": "o", "releases": [base_release()]}),
    orjson.dumps([base_release()]),
    b'{"ocid": "broken",',
    b"   ",
    b"",
    b'{"ocid":"o","id":"1","date":"2020-01-01T00:00:00Z","parties":[],"value":1e9999}',
    b'{"ocid":"o","id":"1","date":"2020-01-01T00:00:00Z","parties":[],"value":25 000,"x":1}',
    b"\t" + orjson.dumps(base_release(id="padded")) + b"\r",
    orjson.dumps(base_release(id="caf\u00e9", tender={"title": "\u2028\x7f\x00"})),
]


def test_odd_lines_examine_the_same_in_c(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\n".join(ODD_LINES)  # no newline at the end
    fast, slow = both_ways(data, monkeypatch)
    assert fast == slow
    assert fast[0] == sum(1 for line in ODD_LINES if line.strip())


def test_only_the_releases_c_does_not_read_are_left_from_a_package() -> None:
    releases = [base_release(id=str(n)) for n in range(5)]
    releases[2]["parties"] = [{"id": "a"}, {"id": "a"}]  # quarantined by the Python path
    line = orjson.dumps({"version": "1.1", "releases": releases})
    count, columns, left = _native.examine_block(line + b"\n", "p.jsonl", 0, 1)
    assert count == 1 and columns["ocid"][0] == 4  # rows read in C
    [(value, number, offset, text, item, version)] = left
    assert (value, number, offset, item, version) == (0, 1, 0, 2, "1.1")
    assert orjson.loads(text) == releases[2]
    # The worker's table has them all, in file order (the one read in Python in its place).
    block = examine_block(("p.jsonl", line + b"\n", 0, 1, False))
    assert block.releases["item"].to_pylist() == [0, 1, 3, 4]
    assert block.refused[0][1][0].index == 2  # quarantined: repeated party ids
    releases[2]["parties"] = [{"id": "a"}, {"id": "b"}]
    releases[2]["tender"] = {"value": {"amount": 1e-7}}  # left to Python, which keeps it
    line = orjson.dumps({"version": "1.1", "releases": releases})
    assert [entry[4] for entry in _native.examine_block(line + b"\n", "p.jsonl", 0, 1)[2]] == [2]
    block = examine_block(("p.jsonl", line + b"\n", 0, 1, False))
    assert block.releases["item"].to_pylist() == [0, 1, 2, 3, 4] and not block.refused


def test_each_odd_line_alone_examines_the_same_in_c(monkeypatch: pytest.MonkeyPatch) -> None:
    for line in ODD_LINES:
        fast, slow = both_ways(line + b"\n", monkeypatch)
        assert fast == slow, line


random_releases = st.lists(st.one_of(release, lean_release), min_size=1, max_size=3)


@SETTINGS
@given(random_releases, st.booleans())
def test_random_releases_examine_the_same_in_c(releases: list[dict], packaged: bool) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for number, item in enumerate(releases):
            item["parties"] = [{"id": f"p{number}"}]
        lines = (
            [orjson.dumps({"version": "1.1", "releases": releases})]
            if packaged
            else [orjson.dumps(item) for item in releases]
        )
        fast, slow = both_ways(b"\n".join(lines) + b"\n", monkeypatch)
        assert fast == slow


# -- compiling at compile -----------------------------------------------------------------------
def _partition_table(releases: list[dict]) -> pa.Table:
    """Releases as compile's partitions hold them (bodies as ingest stores them)."""
    rows = []
    for seq, item in enumerate(releases):
        body = {key: value for key, value in item.items() if key not in KEY_FIELDS}
        tag = item.get("tag")
        rows.append(
            {
                "ocid": item["ocid"],
                "release_id": None if item.get("id") is None else str(item["id"]),
                "date": item["date"],
                "tag": tag if isinstance(tag, list) else None,
                "body": orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode(),
                "simple": False,
                "source": f"source-{seq % 2}",
                "date_utc": parse_micros(item["date"]),
                "seq": seq,
            }
        )
    return pa.Table.from_pylist(rows, schema=PARTITION_SCHEMA)


def _order(table: pa.Table) -> pa.Array:
    return pc.sort_indices(table, [(key, "ascending") for key in ("ocid", "date", "seq")])


def compiled_both_ways(releases: list[dict]) -> tuple[list[dict], list[dict]]:
    """The compiled table's rows from C (refused ocids left null) and from the Python path.

    The table comes in record batches of three rows, slices of one another (as a partition read
    from Parquet comes in row groups), so that C reads rows across batches."""
    whole = _partition_table(releases)
    table = pa.Table.from_batches(whole.to_batches(max_chunksize=3), schema=whole.schema)
    order = _order(table)
    plan = native.merge_plan(default_plan())
    _, columns, refused = native.compile_sorted(plan, table, order)
    fast = native.table_from_buffers(COMPILED_SCHEMA, columns)
    fast.validate(full=True)
    rows = table.take(order).to_pylist()
    groups: dict[str, list[tuple]] = {}
    for row in rows:
        groups.setdefault(row["ocid"], []).append(tuple(row.values())[:8])
    slow = []
    for number, group in enumerate(groups.values()):
        compiled, _, error = merge_group(group, Merger(default_plan()), None)
        refused_here = any(entry[0] == number for entry in refused)
        slow.append(
            {
                "ocid": group[0][0],
                "compiled_release": None if refused_here else compiled,
                "versioned_release": None,
                "release_count": len(group),
                "release_ids": [row[1] for row in group],
                "first_release_date": group[0][7],
                "last_release_date": group[-1][7],
                "tags": list(dict.fromkeys(tag for row in group for tag in row[3] or [])),
                "sources": list(dict.fromkeys(row[6] for row in group)),
                "merge_error": None if refused_here else error,
            }
        )
    as_micros = [
        {
            **row,
            "first_release_date": _micros(row["first_release_date"]),
            "last_release_date": _micros(row["last_release_date"]),
        }
        for row in fast.to_pylist()
    ]
    return as_micros, slow


def _micros(value: datetime | None) -> int | None:
    return (
        None
        if value is None
        else (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    )


def test_real_samples_compile_the_same_in_c() -> None:
    releases = []
    for line in SAMPLE_LINES:
        value = orjson.loads(line)
        for item in value.get("releases", [value]) if isinstance(value, dict) else []:
            if (
                isinstance(item, dict)
                and parse_micros(item.get("date")) is not None
                and item.get("ocid")
            ):
                releases.append(item)
    fast, slow = compiled_both_ways(releases)
    assert fast == slow and len(fast) >= 300
    assert sum(row["compiled_release"] is None for row in fast) < len(fast) / 10


@SETTINGS
@given(st.lists(st.one_of(release, lean_release), min_size=1, max_size=5), st.booleans())
def test_random_releases_compile_the_same_in_c(releases: list[dict], two_ocids: bool) -> None:
    if two_ocids:
        for item in releases[::2]:
            item["ocid"] = "ocds-other"
    fast, slow = compiled_both_ways(releases)
    assert fast == slow


def test_c_leaves_merge_conflicts_and_odd_ids_to_python() -> None:
    first = {
        "ocid": "o",
        "id": "1",
        "date": "2020-01-01T00:00:00Z",
        "tender": {"items": [{"id": "1", "x": 1}]},
    }
    conflict = {**first, "id": "2", "date": "2021-01-01T00:00:00Z", "tender": {"items": {"a": 1}}}
    float_ids = {**first, "ocid": "p", "awards": [{"id": 1.5, "title": "t"}]}
    fast, slow = compiled_both_ways([first, conflict, float_ids])
    assert fast == slow
    assert [row["compiled_release"] for row in fast] == [None, None]
