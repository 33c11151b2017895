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

    monkeypatch.setattr(compile_module, "CHUNK_RELEASES", 3)  # many chunks in flight
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
