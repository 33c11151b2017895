"""`mutualise registers load companies-house` killed with SIGKILL at seeded-random points, then
re-run, ends with exactly the tables of an uninterrupted load; and every kill leaves the
previous load whole (a reader never sees a half-loaded or missing register).

Input: a Companies House Free Company Data Product file in its real bulk format, written by the
synthetic world generator (`mutualise synth`), split into two parts as Companies House publishes
it, with two malformed lines so the quarantine is exercised. The warehouse being killed already
holds an earlier, smaller snapshot. Kill points: three seeded-random delays after the load's
staging folder appears, one in each of the first three quarters of the time an uninterrupted
load spends after it (the last quarter is left as a margin for a faster run).

Left out of the comparison: `load.json`'s `loaded_at` and `seconds` (the wall-clock time and
duration of the run). The Parquet tables are compared whole.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from mutualise.synth.world import generate_world
from tests.pipeline.killing import (
    assert_same_rows,
    command,
    environment,
    new_entry,
    observe,
    read_rows,
    run,
    run_and_kill,
)

RUN_SPECIFIC_LOAD = ("loaded_at", "seconds")


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(earlier snapshot folder, later snapshot folder) of Companies House files."""
    root = tmp_path_factory.mktemp("companies-house")
    generate_world(root / "world", releases=200, seed=11, register_rows=20_000)
    (source,) = (root / "world" / "registers" / "companies-house").glob("*.csv")
    header, *rows = source.read_bytes().rstrip(b"\n").split(b"\n")
    earlier = root / "2026-10"
    later = root / "2026-11"
    earlier.mkdir()
    later.mkdir()
    (earlier / "BasicCompanyData-2026-10-01-part1_1.csv").write_bytes(
        b"\n".join([header, *rows[: len(rows) // 2]]) + b"\n"
    )
    half = len(rows) // 2
    first = [*rows[:half], b'"BROKEN LINE LIMITED","12345678"']
    second = [*rows[half:], b'"ANOTHER BROKEN LTD","1234","","","1 HIGH STREET"']
    (later / "BasicCompanyData-2026-11-01-part1_2.csv").write_bytes(
        b"\n".join([header, *first]) + b"\n"
    )
    (later / "BasicCompanyData-2026-11-01-part2_2.csv").write_bytes(
        b"\n".join([header, *second]) + b"\n"
    )
    return earlier, later


def register_state(root: Path) -> dict[str, object]:
    folder = root / "warehouse" / "registers" / "companies_house"
    load = orjson.loads((folder / "load.json").read_bytes())
    for key in RUN_SPECIFIC_LOAD:
        load.pop(key)
    return {
        "load.json": load,
        "organisations": read_rows(folder / "organisations.parquet", (), root),
        "quarantine": read_rows(folder / "quarantine.parquet", (), root),
    }


def assert_same_state(expected: dict[str, object], got: dict[str, object]) -> None:
    assert got["load.json"] == expected["load.json"]
    for name in ("organisations", "quarantine"):
        assert_same_rows(name, expected[name], got[name])  # type: ignore[arg-type]


def test_register_load_killed_three_times_then_rerun_matches_uninterrupted_load(
    tmp_path: Path, snapshots: tuple[Path, Path]
) -> None:
    earlier, later = snapshots
    load_later = command("registers", "load", "companies-house", str(later))
    reference_root = tmp_path / "reference"
    registers = reference_root / "warehouse" / "registers"
    reference = observe(
        load_later,
        environment(reference_root),
        {"staging": new_entry(registers, ".companies_house-*")},
    )
    expected = register_state(reference_root)
    assert expected["load.json"]["rows_quarantined"] >= 1  # type: ignore[index]

    killed_root = tmp_path / "killed"
    env = environment(killed_root)
    run(command("registers", "load", "companies-house", str(earlier)), env)
    previous = register_state(killed_root)
    assert previous["organisations"] != expected["organisations"]

    rng = random.Random(2026)
    span = reference.remaining("staging")
    for third in range(3):
        delay = rng.uniform(third / 4, (third + 1) / 4) * span
        trigger = new_entry(killed_root / "warehouse" / "registers", ".companies_house-*")
        killed = run_and_kill(load_later, env, trigger, delay)
        assert not killed.finished, (
            f"the load finished (exit {killed.returncode}) before the kill after {delay:.2f} s:"
            f" the kill did not land mid-run\n{killed.output[-2000:]}"
        )
        # The earlier load is still there, whole; or the new one is, if the kill came after
        # the swap. Never neither, never a mixture.
        state = register_state(killed_root)
        if state["load.json"] != expected["load.json"]:
            assert_same_state(previous, state)
        else:
            assert_same_state(expected, state)

    run(load_later, env)
    assert_same_state(expected, register_state(killed_root))
    # No staging folders from the killed loads are left behind to fill the disk.
    leftovers = sorted(p.name for p in (killed_root / "warehouse" / "registers").glob(".*"))
    assert not [name for name in leftovers if not name.endswith(".lock")], leftovers
