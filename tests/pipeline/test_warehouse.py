"""The warehouse's write lock: one ingest, compile or flatten at a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mutualise.pipeline.compile import compile_releases
from mutualise.pipeline.flatten import flatten
from mutualise.pipeline.ingest import ingest
from mutualise.pipeline.warehouse import Warehouse, WarehouseBusy

HOLD = """
import sys
from mutualise.pipeline.warehouse import Warehouse
with Warehouse(sys.argv[1]).writing("ingest"):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def held(tmp_path: Path):
    """Another process writing the warehouse."""
    warehouse = tmp_path / "wh"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    yield warehouse, holder.pid
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)


def test_a_second_writer_is_refused_with_the_holder_named(held, small_input: Path) -> None:
    warehouse, pid = held
    with pytest.raises(WarehouseBusy, match=rf"being written by ingest \(process {pid},"):
        ingest([small_input], warehouse)
    assert not (warehouse / "raw").exists()  # nothing was read or written


def test_the_cli_says_so_in_one_line(held, small_input: Path) -> None:
    from mutualise.cli import app

    warehouse, _ = held
    result = CliRunner().invoke(app, ["ingest", str(small_input), "--warehouse", str(warehouse)])
    said = " ".join(result.output.split())  # the terminal wraps the message
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "error: the warehouse" in said and "is being written by ingest (process" in said


def test_the_lock_nests_in_one_process_and_is_released(small_input: Path, tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh")
    with warehouse.writing("pipeline"):
        ingest([small_input], warehouse.root)  # the steps inside one run do not refuse each other
        compile_releases(warehouse.root, workers=1)
    with warehouse.writing("again"):  # released: taken again at once
        pass
    assert (warehouse.root / ".lock").read_text() == ""


def test_the_lock_is_released_when_a_step_fails(small_input: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        flatten(tmp_path / "wh")  # nothing compiled yet
    ingest([small_input], tmp_path / "wh")


def test_leftovers_of_killed_steps_are_removed(small_input: Path, tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh")
    ingest([small_input], warehouse.root)
    dead = [
        warehouse.compiled_dir.parent / ".compiled_releases-0badf00d",
        warehouse.compiled_dir.parent / ".compiled_releases-old-0badf00d",
        warehouse.compiled_dir.parent / ".typed-0badf00d",
        warehouse.tables_dir / ".processes-0badf00d",
    ]
    for folder in dead:
        folder.mkdir(parents=True)
        (folder / "part-0.parquet").write_bytes(b"half")
    (warehouse.root / "tmp" / "partitions-0badf00d" / "part=1").mkdir(parents=True)
    (warehouse.root / "tmp" / "partitions-0badf00d" / "part=1" / "data_0.parquet").write_bytes(
        b"half"
    )
    (warehouse.root / "tmp" / "merge-ocids-0badf00d.parquet").write_bytes(b"half")  # older versions
    compile_releases(warehouse.root, workers=1)
    flatten(warehouse.root)
    assert [path for path in dead if path.exists()] == []
    assert list((warehouse.root / "tmp").iterdir()) == []
    assert warehouse.connect().execute("SELECT count(*) FROM processes").fetchone() == (189,)
