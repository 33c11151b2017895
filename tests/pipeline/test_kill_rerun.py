"""`mutualise ingest` killed with SIGKILL at seeded-random points, then re-run, ends with exactly
the tables of an uninterrupted run: no release lost, none duplicated, and every derived table
(compiled releases, the typed intermediate and the analytics tables) the same.

Input: the real OCDS samples in tests/fixtures/ocds (release packages, records, OCDS 1.0 and
1.1, JSON Lines), plus copies of the Contracts Finder 2025 releases under new ocids to give the
run some length, a malformed line, an exact duplicate and a conflicting duplicate (so the
quarantine and the deduplication are exercised across the kills too).

Kill points, one per run, in order: inside the ingest (after a random committed batch), inside
the compile and inside the flatten (a random delay after each step's staging folder appears).
Each later run resumes from what the killed ones left.

Columns left out of the comparison, being the wall-clock time of the run that wrote the row:
`quarantine.quarantined_at` and `ingested_files.finished_at`. Stored file paths are compared
relative to each run's folder.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import orjson
import pytest

from mutualise.pipeline.warehouse import Warehouse
from tests.pipeline.killing import (
    Observed,
    assert_same_rows,
    batches_committed,
    command,
    environment,
    new_entry,
    observe,
    read_rows,
    run,
    run_and_kill,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ocds"
CF_2025 = FIXTURES / "cfserver1-2019-2025" / "contracts-finder-2025-01-to-03.releases.jsonl"

RUN_SPECIFIC = {
    "quarantine": ("quarantined_at",),  # when the run that quarantined the row ran
    "ingested_files": ("finished_at",),  # when the run that finished the file ran
}


def make_input(folder: Path, copies: int, files: int = 1) -> Path:
    """The real samples plus `copies` renamed copies of the Contracts Finder 2025 releases."""
    shutil.copytree(FIXTURES, folder / "samples")
    lines = [orjson.loads(line) for line in CF_2025.read_bytes().splitlines() if line.strip()]
    copied = folder / "copies"
    copied.mkdir()
    per_file = -(-copies // files)
    for number in range(files):
        out: list[bytes] = []
        for copy in range(number * per_file + 1, min((number + 1) * per_file, copies) + 1):
            for release in lines:
                renamed = {
                    **release,
                    "ocid": f"{release['ocid']}-c{copy}",
                    "id": f"{release['id']}-c{copy}",
                }
                out.append(orjson.dumps(renamed))
        if number == 0:
            out.insert(5, b'{"ocid": "ocds-b5fd17-broken", "id": "1", "date": ')  # malformed
            out.append(out[7])  # an exact duplicate
            conflicting = orjson.loads(out[9])
            conflicting["language"] = "cy"  # same ocid, id and date; other content
            out.append(orjson.dumps(conflicting))
        (copied / f"copies-{number}.jsonl").write_bytes(b"\n".join(out) + b"\n")
    return folder


def warehouse_tables(root: Path) -> dict[str, tuple[list[str], object]]:
    """Every table a reader of the warehouse sees (plus the typed intermediate), as rows."""
    warehouse = Warehouse(root / "warehouse")
    tables = {}
    for name, where in warehouse.table_paths().items():
        tables[name] = read_rows(where, RUN_SPECIFIC.get(name, ()), root)
    typed = warehouse.root / "compiled" / "typed"
    if any(typed.glob("*.parquet")):
        tables["typed"] = read_rows(typed, (), root)
    return tables


def assert_consistent(root: Path) -> None:
    """What a killed run leaves is readable and holds each release once."""
    warehouse = Warehouse(root / "warehouse")
    if not warehouse.committed_files("releases"):
        return
    with warehouse.connect() as connection:
        doubled = connection.sql(
            "SELECT ocid, release_id, date, count(*) FROM releases "
            "GROUP BY ALL HAVING count(*) > 1 LIMIT 3"
        ).fetchall()
    assert not doubled, f"a release is stored twice after a kill: {doubled}"


def ingest_triggers(root: Path) -> dict[str, object]:
    warehouse = root / "warehouse"
    return {
        "compile": new_entry(warehouse / "compiled", ".compiled_releases-*"),
        "flatten": new_entry(warehouse / "compiled", ".typed-*"),
    }


def kill_and_rerun(
    tmp_path: Path, inputs: Path, seed: int, batch_size: str, ingest_kills: int
) -> None:
    reference_root = tmp_path / "reference"
    killed_root = tmp_path / "killed"
    knobs = {"MUTUALISE_TEST_INGEST_BATCH_SIZE": batch_size} if batch_size else {}
    arguments = command("ingest", str(inputs))

    # The uninterrupted run, timing each step.
    triggers = ingest_triggers(reference_root)
    reference: Observed = observe(arguments, environment(reference_root, **knobs), triggers)  # type: ignore[arg-type]
    batches = len(
        orjson.loads((reference_root / "warehouse/raw/_manifest.json").read_bytes())["batches"]
    )
    assert batches >= ingest_kills + 2, f"only {batches} batches: the input is too small"

    rng = random.Random(seed)
    env = environment(killed_root, **knobs)
    plan: list[tuple[str, float]] = []
    committed = 0
    for _ in range(ingest_kills):
        committed += rng.randint(1, max(1, (batches - 1 - committed) // 2))
        plan.append((f"batch {committed}", rng.uniform(0.0, 0.03)))
    compile_span = reference.fired["flatten"] - reference.fired["compile"]
    plan.append(("compile", rng.uniform(0.05, 0.7) * compile_span))
    plan.append(("flatten", rng.uniform(0.05, 0.6) * reference.remaining("flatten")))

    done_batches = 0
    for point, delay in plan:
        warehouse = killed_root / "warehouse"
        if point.startswith("batch"):
            wanted = int(point.split()[1])
            trigger = batches_committed(warehouse, wanted - done_batches)
        else:
            trigger = ingest_triggers(killed_root)[point]  # type: ignore[assignment]
        killed = run_and_kill(arguments, env, trigger, delay)  # type: ignore[arg-type]
        assert not killed.finished, (
            f"the run finished (exit {killed.returncode}) before the kill at {point} + {delay:.2f} s:"
            f" the kill did not land mid-run\n{killed.output[-2000:]}"
        )
        assert_consistent(killed_root)
        manifest = warehouse / "raw" / "_manifest.json"
        if manifest.exists():
            done_batches = len(orjson.loads(manifest.read_bytes())["batches"])

    run(arguments, env)

    expected = warehouse_tables(reference_root)
    got = warehouse_tables(killed_root)
    assert sorted(got) == sorted(expected)
    assert {"releases", "quarantine", "compiled_releases", "awards"} <= set(expected)
    for name in expected:
        assert_same_rows(name, expected[name], got[name])  # type: ignore[arg-type]
    # The malformed line and the conflicting duplicate put in the input were quarantined.
    columns, rows = got["quarantine"]
    quarantined = [dict(zip(columns, row, strict=True)) for row in rows.elements()]
    assert any(row["ocid"] is None and "copies-0" in row["source_file"] for row in quarantined)
    assert any(
        row["ocid"] and row["ocid"].endswith("-c1") and "conflicting" in row["reason"]
        for row in quarantined
    )


def test_ingest_killed_three_times_then_rerun_matches_uninterrupted_run(tmp_path: Path) -> None:
    inputs = make_input(tmp_path / "input", copies=4)
    kill_and_rerun(tmp_path, inputs, seed=9, batch_size="100", ingest_kills=1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_ingest_killed_five_times_on_a_bigger_input(tmp_path: Path, seed: int) -> None:
    # ~15,000 releases in files big enough (over 4 MB) for the parallel parser's worker
    # processes, committed in batches of 2,500: three kills inside the ingest, then compile
    # and flatten.
    inputs = make_input(tmp_path / "input", copies=72, files=3)
    kill_and_rerun(tmp_path, inputs, seed=seed, batch_size="2500", ingest_kills=3)
