"""The compiled_releases table equals ocdsmerge on every ocid of the real samples."""

from __future__ import annotations

import collections
import warnings
from pathlib import Path

import ocdsmerge
import orjson

from mutualise.pipeline.compile import compile_releases
from mutualise.pipeline.export import export_compiled_releases
from mutualise.pipeline.ingest import ingest
from mutualise.pipeline.schema import release_schema
from mutualise.pipeline.warehouse import Warehouse


def canonical(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def stored_releases(warehouse: Path) -> dict[str, list[dict]]:
    """The ingested releases per ocid, in the order compile merges them."""
    rows = (
        Warehouse(warehouse)
        .connect()
        .execute("SELECT ocid, release_id, date, tag, body FROM releases ORDER BY ocid, date, seq")
        .fetchall()
    )
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for ocid, release_id, date, tag, body in rows:
        release = {**orjson.loads(body), "ocid": ocid, "date": date}
        if release_id is not None:
            release["id"] = release_id
        if tag is not None:
            release["tag"] = tag
        groups[ocid].append(release)
    return groups


def test_compiled_table_equals_ocdsmerge(built_warehouse: Path) -> None:
    reference = ocdsmerge.Merger(release_schema())
    compiled = dict(
        Warehouse(built_warehouse)
        .connect()
        .execute("SELECT ocid, compiled_release FROM compiled_releases")
        .fetchall()
    )
    groups = stored_releases(built_warehouse)
    assert set(compiled) == set(groups) and len(groups) >= 380
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ocid, releases in groups.items():
            assert canonical(orjson.loads(compiled[ocid])) == canonical(
                reference.create_compiled_release(releases)
            )


def test_worker_pool_and_versioned_output(small_input: Path, tmp_path: Path, monkeypatch) -> None:
    import mutualise.pipeline.compile as compile_module

    monkeypatch.setattr(compile_module, "PARTITION_BYTES", 20_000)  # many partitions a worker
    warehouse = tmp_path / "wh"
    ingest([small_input], warehouse)
    summary = compile_releases(warehouse, versioned=True, workers=2)
    assert summary.compiled == 189 and summary.errors == 0
    rows = (
        Warehouse(warehouse)
        .connect()
        .execute(
            "SELECT ocid, compiled_release, versioned_release, release_count FROM compiled_releases ORDER BY ocid"
        )
        .fetchall()
    )
    reference = ocdsmerge.Merger(release_schema())
    groups = stored_releases(warehouse)
    for ocid, compiled, versioned, count in rows:
        assert count == len(groups[ocid])
        assert canonical(orjson.loads(compiled)) == canonical(
            reference.create_compiled_release(groups[ocid])
        )
        assert canonical(orjson.loads(versioned)) == canonical(
            reference.create_versioned_release(groups[ocid])
        )


def test_export_writes_one_release_per_line(built_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "compiled.jsonl"
    count = export_compiled_releases(out, built_warehouse)
    lines = out.read_bytes().splitlines()
    assert count == len(lines) >= 380
    assert all(orjson.loads(line)["tag"] == ["compiled"] for line in lines)
    # In ocid order, although compile writes its table in parts (DuckDB's and the workers').
    ocids = [orjson.loads(line)["ocid"] for line in lines]
    assert ocids == sorted(ocids)


def test_many_partitions_give_the_same_table(
    small_input: Path, tmp_path: Path, monkeypatch
) -> None:
    """With a partition budget of a few releases' bodies, ocids are merged in many partitions."""
    import mutualise.pipeline.compile as compile_module

    whole = tmp_path / "whole"
    ingest([small_input], whole)
    compile_releases(whole, workers=1)
    monkeypatch.setattr(compile_module, "PARTITION_BYTES", 5_000)
    partitioned = tmp_path / "partitioned"
    ingest([small_input], partitioned)
    summary = compile_releases(partitioned, workers=1)
    assert summary.merged > 10 and summary.errors == 0
    assert compiled_table(partitioned) == compiled_table(whole)
    assert len(list((partitioned / "tmp").glob("partitions-*"))) == 0  # removed after the run


def test_c_and_python_compile_the_same_table(samples: Path, tmp_path: Path, monkeypatch) -> None:
    """The C merge (the default) and the Python merge give the same table, byte for byte."""
    warehouses = {}
    for flag in ("1", "0"):
        monkeypatch.setenv("MUTUALISE_NATIVE", flag)
        warehouses[flag] = tmp_path / f"wh-{flag}"
        ingest([samples], warehouses[flag])
        summary = compile_releases(warehouses[flag], workers=2)
        assert summary.merged > 10
    assert compiled_table(warehouses["1"]) == compiled_table(warehouses["0"])


def compiled_table(warehouse: Path) -> list[tuple]:
    query = "SELECT * FROM compiled_releases ORDER BY ocid"
    return Warehouse(warehouse).connect().execute(query).fetchall()


def test_a_failed_compile_leaves_the_earlier_table_and_no_staging_folder(
    small_input: Path, tmp_path: Path, monkeypatch
) -> None:
    import pytest

    import mutualise.pipeline.compile as compile_module

    warehouse = tmp_path / "wh"
    ingest([small_input], warehouse)
    compile_releases(warehouse, workers=1)
    compiled_dir = Warehouse(warehouse).compiled_dir
    before = sorted(path.read_bytes() for path in compiled_dir.glob("*.parquet"))

    def failing(job):
        raise MemoryError("out of memory (simulated)")

    monkeypatch.setattr(compile_module, "merge_partitions", failing)
    with pytest.raises(MemoryError):
        compile_releases(warehouse, workers=1)
    assert sorted(path.read_bytes() for path in compiled_dir.glob("*.parquet")) == before
    assert [path.name for path in compiled_dir.parent.iterdir() if path.name.startswith(".")] == []
    assert list((warehouse / "tmp").glob("partitions-*")) == []


def test_compiled_files_hold_whole_row_groups(
    small_input: Path, tmp_path: Path, monkeypatch
) -> None:
    """Each compiled file is written in row groups of OUTPUT_ROWS (but its last), however many
    rows each partition gives: flatten shares row groups between its workers."""
    import pyarrow.parquet as pq

    import mutualise.pipeline.compile as compile_module

    monkeypatch.setattr(compile_module, "PARTITION_BYTES", 20_000)
    monkeypatch.setattr(compile_module, "OUTPUT_ROWS", 25)
    warehouse = tmp_path / "wh"
    ingest([small_input], warehouse)
    summary = compile_releases(warehouse, workers=2)
    sizes = [
        [metadata.row_group(group).num_rows for group in range(metadata.num_row_groups)]
        for metadata in (
            pq.ParquetFile(path).metadata
            for path in Warehouse(warehouse).compiled_dir.glob("*.parquet")
        )
    ]
    assert sum(map(sum, sizes)) == summary.compiled
    assert all(size == 25 for file in sizes for size in file[:-1]) and len(sizes) > 1
