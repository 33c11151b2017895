"""Ingest: quarantine reasons, idempotency, resume after an interrupted batch."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import mutualise.pipeline.ingest as ingest_module
from mutualise.pipeline.ingest import IngestError, ingest
from mutualise.pipeline.warehouse import Warehouse


def release(
    ocid: str = "ocds-x-1", release_id: str = "1", date: str = "2025-01-01T00:00:00Z", **extra
) -> dict:
    return {"ocid": ocid, "id": release_id, "date": date, "tag": ["tender"], **extra}


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_quarantine_reasons_and_positions(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "mixed.jsonl",
        [
            orjson.dumps(release()),
            b'{"ocid": "broken",',
            orjson.dumps(release(ocid="")),
            orjson.dumps(release(release_id="2", date="2025-02-30T00:00:00Z")),
            orjson.dumps(
                release(release_id="3", parties=[{"id": "a"}, {"id": "a", "name": "other"}])
            ),
            orjson.dumps(
                release(
                    release_id="4", date="2025-01-02T00:00:00Z", tender={"value": {"amount": 1}}
                )
            ),
        ],
    )
    summary = ingest([source], tmp_path / "wh")
    assert (summary.releases_new, summary.quarantined) == (2, 4)
    rows = (
        Warehouse(tmp_path / "wh")
        .connect()
        .sql("SELECT line, reason FROM quarantine ORDER BY line")
        .fetchall()
    )
    reasons = dict(rows)
    assert reasons[2].startswith("malformed JSON on line 2")
    assert reasons[3] == "no ocid"
    assert reasons[4].startswith("impossible date")
    assert reasons[5].startswith("duplicate party id 'a'")


def test_ingesting_twice_changes_nothing(small_input: Path, tmp_path: Path) -> None:
    first = ingest([small_input], tmp_path / "wh")
    connection = Warehouse(tmp_path / "wh").connect()
    before = connection.sql(
        "SELECT * EXCLUDE (seq) FROM releases ORDER BY ocid, date, release_id"
    ).fetchall()
    second = ingest([small_input], tmp_path / "wh")
    assert first.releases_new == 199 and first.quarantined == 1
    assert (second.files_skipped, second.releases_new, second.quarantined) == (1, 0, 0)
    # The same releases in a new file (other name, other bytes) are all duplicates.
    copy = small_input / "copy.jsonl"
    copy.write_bytes(b"\n" + next(small_input.glob("*.releases.jsonl")).read_bytes())
    third = ingest([copy], tmp_path / "wh")
    assert (third.releases_new, third.duplicates) == (0, 199)
    after = (
        Warehouse(tmp_path / "wh")
        .connect()
        .sql("SELECT * EXCLUDE (seq) FROM releases ORDER BY ocid, date, release_id")
        .fetchall()
    )
    assert after == before


def test_interrupted_run_resumes(
    small_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "wh"
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 50)
    original = ingest_module._write_atomically
    calls = {"n": 0}

    def crash_on_third_batch(rows, schema, target, **options):
        calls["n"] += 1
        if calls["n"] == 3:
            # Half a batch reaches disk, then the process dies.
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"PAR1 half written")
            raise KeyboardInterrupt
        return original(rows, schema, target, **options)

    monkeypatch.setattr(ingest_module, "_write_atomically", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        ingest([small_input], warehouse)
    monkeypatch.setattr(ingest_module, "_write_atomically", original)
    resumed = ingest([small_input], warehouse)
    assert resumed.files_read == 1
    connection = Warehouse(warehouse).connect()
    count, distinct = connection.execute(
        "SELECT count(*), count(DISTINCT (ocid, release_id, date)) FROM releases"
    ).fetchall()[0]
    assert count == distinct == 199
    assert connection.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] == 1
    # The half-written file was discarded.
    listed = {p.name for p in Warehouse(warehouse).committed_files("releases")}
    assert {p.name for p in (warehouse / "raw" / "releases").iterdir()} == listed


def test_records_packages_and_old_versions(samples: Path, tmp_path: Path) -> None:
    summary = ingest([samples / "contracts-finder-2014-2016"], tmp_path / "wh", source="cf-2014")
    assert summary.files_read == 32
    connection = Warehouse(tmp_path / "wh").connect()
    versions = dict(
        connection.sql("SELECT ocds_version, count(*) FROM releases GROUP BY 1").fetchall()
    )
    assert set(versions) <= {"1.0", "1.1"}
    # Every kept release has parties (1.0 organisations were moved there).
    assert (
        connection.execute(
            "SELECT count(*) FROM releases WHERE body NOT LIKE '%\"parties\"%'"
        ).fetchall()[0][0]
        == 0
    )
    assert connection.sql("SELECT DISTINCT source FROM releases").fetchall() == [("cf-2014",)]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        ingest([tmp_path / "nope.json"], tmp_path / "wh")


@pytest.mark.parametrize("compressed", [False, True])
def test_parallel_chunks_match_one_process(
    small_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    """Worker processes parsing blocks give the same rows, positions and quarantine."""
    import gzip

    source = next(small_input.glob("*.releases.jsonl"))
    lines = source.read_bytes().splitlines()
    # A malformed line and a blank line in the middle: line numbers must still be exact.
    lines[57:57] = [b'{"ocid": "broken",', b""]
    data = b"\n".join(lines) + b"\n"
    if compressed:
        source.unlink()
        source.with_suffix(".jsonl.gz").write_bytes(gzip.compress(data))
    else:
        source.write_bytes(data)
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_module, "CHUNK_BYTES", 40_000)  # many chunks, cut mid-file
    tables = {}
    for workers in (1, 2):
        warehouse = tmp_path / f"wh-{workers}"
        summary = ingest([small_input], warehouse, workers=workers)
        assert (summary.releases_new, summary.quarantined) == (199, 2)
        connection = Warehouse(warehouse).connect()
        tables[workers] = (
            connection.sql(
                "SELECT * EXCLUDE (seq) FROM releases ORDER BY ocid, date, release_id"
            ).fetchall(),
            connection.sql(
                "SELECT line, byte_offset, position, reason FROM quarantine ORDER BY line"
            ).fetchall(),
        )
    assert tables[1] == tables[2]
    assert tables[2][1][0][0] == 58 and tables[2][1][0][3].startswith("malformed JSON on line 58")


def test_content_hash_ignores_key_order(tmp_path: Path) -> None:
    """The same release with its keys in another order is a duplicate, not a conflict."""
    first = release(tender={"id": "t", "title": "x"})
    second = dict(reversed(list(first.items())))
    second["tender"] = {"title": "x", "id": "t"}
    write_lines(tmp_path / "a.jsonl", [orjson.dumps(first)])
    write_lines(tmp_path / "b.jsonl", [orjson.dumps(second)])
    ingest([tmp_path / "a.jsonl"], tmp_path / "wh")
    summary = ingest([tmp_path / "b.jsonl"], tmp_path / "wh")
    assert (summary.releases_new, summary.duplicates, summary.quarantined) == (0, 1, 0)


def test_warehouse_from_before_hash_version_2_keeps_its_hashes(tmp_path: Path) -> None:
    import hashlib

    warehouse = Warehouse(tmp_path / "wh")
    # A manifest with committed batches and no hash_version: written by an older version.
    warehouse.write_manifest(
        {"batches": [{"releases": None, "quarantine": None, "rows": 0}], "files": {}, "next_seq": 0}
    )
    kept = release()
    ingest([write_lines(tmp_path / "a.jsonl", [orjson.dumps(kept)])], tmp_path / "wh")
    digest = warehouse.connect().sql("SELECT content_hash FROM releases").fetchall()[0][0]
    canonical = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)
    assert digest == hashlib.blake2b(canonical, digest_size=16).hexdigest()
    assert warehouse.read_manifest()["hash_version"] == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_duplicates_and_conflicts_in_blocks_read_by_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Workers write each block's releases to a file of its own; a block holding releases seen
    before is committed without them, and one with a seen key but other content is quarantined,
    with the same rows and seq order as in one process."""
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_module, "CHUNK_BYTES", 300)  # a few releases a block
    first = [release(release_id=str(n)) for n in range(20)]
    write_lines(tmp_path / "a.jsonl", [orjson.dumps(item) for item in first])
    second = [
        *first[5:10],  # seen before
        release(release_id="7", tender={"title": "changed"}),  # seen key, other content
        *[release(release_id=str(n)) for n in range(20, 40)],
        release(release_id="30"),  # repeated within the file
    ]
    write_lines(tmp_path / "b.jsonl", [orjson.dumps(item) for item in second])
    warehouse = tmp_path / "wh"
    ingest([tmp_path / "a.jsonl"], warehouse, workers=workers)
    summary = ingest([tmp_path / "b.jsonl"], warehouse, workers=workers)
    assert (summary.releases_new, summary.duplicates, summary.quarantined) == (20, 7, 1)
    connection = Warehouse(warehouse).connect()
    ids = connection.sql("SELECT release_id FROM releases ORDER BY seq").fetchall()
    assert [int(row[0]) for row in ids] == list(range(40))
    [(code, line)] = connection.sql("SELECT reason, line FROM quarantine").fetchall()
    assert code.startswith("conflicting duplicate") and line == 6
    releases_dir = Warehouse(warehouse).releases_dir
    assert not [path.name for path in releases_dir.iterdir() if path.name.startswith(".")]


def test_files_are_named_by_their_sha256_in_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big file of a new size has its digest worked out while it is read; one of a size seen
    before, before it is read (it may be that file again); both are named by their SHA-256."""
    import hashlib

    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)  # every file is big

    first = write_lines(tmp_path / "a.jsonl", [orjson.dumps(release())])
    same_size = write_lines(tmp_path / "b.jsonl", [orjson.dumps(release(release_id="2"))])
    assert first.stat().st_size == same_size.stat().st_size
    warehouse = tmp_path / "wh"
    ingest([first], warehouse)
    summary = ingest([same_size, first], warehouse)
    assert (summary.files_read, summary.files_skipped, summary.releases_new) == (1, 1, 1)
    names = set(Warehouse(warehouse).read_manifest()["files"])
    assert names == {hashlib.sha256(path.read_bytes()).hexdigest() for path in (first, same_size)}


def test_reading_goes_on_while_a_new_file_is_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of a size not seen before is read while its SHA-256 is worked out: commits wait
    for the digest, the reading does not."""
    import hashlib
    import threading

    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_module, "CHUNK_BYTES", 400)
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 5)
    source = write_lines(
        tmp_path / "a.jsonl", [orjson.dumps(release(release_id=str(n))) for n in range(60)]
    )
    all_read = threading.Event()
    take_block = ingest_module.Ingester._take_block

    def taking(self, block, record, skip):  # type: ignore[no-untyped-def]
        take_block(self, block, record, skip)
        if self.summary.releases_read == 60:
            all_read.set()

    def slow_digest(path: Path) -> str:
        if not all_read.wait(timeout=30):
            raise AssertionError("the reading stopped to wait for the digest")
        return hashlib.sha256(path.read_bytes()).hexdigest()

    monkeypatch.setattr(ingest_module.Ingester, "_take_block", taking)
    monkeypatch.setattr(ingest_module, "_file_digest", slow_digest)
    summary = ingest([source], tmp_path / "wh", workers=2)
    assert summary.releases_new == 60
    manifest = Warehouse(tmp_path / "wh").read_manifest()
    assert list(manifest["files"]) == [hashlib.sha256(source.read_bytes()).hexdigest()]


def test_seq_numbers_are_unique_and_in_file_order_in_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers number a block's releases from byte offsets: the releases of one line (a record
    package's, which share an item number) still get a number each, in file order."""
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_module, "CHUNK_BYTES", 500)
    same_date = "2025-01-01T00:00:00Z"
    record = {
        "ocid": "ocds-x-9",
        "releases": [release("ocds-x-9", str(n), same_date, parties=[]) for n in range(4)],
    }
    lines = [
        orjson.dumps(release(release_id="a", parties=[])),
        orjson.dumps({"version": "1.1", "records": [record]}),
        orjson.dumps({"version": "1.1", "releases": [release("ocds-x-8", "p", parties=[])]}),
        orjson.dumps(release(release_id="b", parties=[])),
    ]
    warehouse = tmp_path / "wh"
    ingest([write_lines(tmp_path / "a.jsonl", lines)], warehouse, workers=2)
    rows = Warehouse(warehouse).connect().sql("SELECT seq, release_id FROM releases").fetchall()
    assert len({seq for seq, _ in rows}) == len(rows) == 7
    assert [release_id for _, release_id in sorted(rows)] == ["a", "0", "1", "2", "3", "p", "b"]
