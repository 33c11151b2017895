"""Helpers for the kill-and-rerun tests: run a CLI command in its own process, SIGKILL it at a
chosen point, and compare the tables two runs leave behind.

A kill point is a *trigger* (a condition on the files the run writes, such as "the third ingest
batch is committed" or "a compile staging folder has appeared") plus a seeded-random delay after
it, scaled to how long the uninterrupted reference run went on after the same trigger. The
process group is killed (the command's worker processes die with it, as in a power cut), and a
kill only counts if the command was still running: `Killed.finished` says otherwise.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

LAUNCHER = Path(__file__).with_name("cli_launcher.py")
POLL_SECONDS = 0.003
RUN_TIMEOUT = 120.0

Trigger = Callable[[], bool]


def command(*arguments: str) -> list[str]:
    """The `mutualise` CLI with `arguments`, started through the test launcher."""
    return [sys.executable, str(LAUNCHER), *arguments]


def environment(root: Path, **extra: str) -> dict[str, str]:
    """A subprocess environment with its own var and warehouse folders under `root`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MUTUALISE_") and key != "DATABASE_URL"
    }
    env.update(
        MUTUALISE_MODE="test",
        MUTUALISE_VAR_DIR=str(root / "var"),
        MUTUALISE_WAREHOUSE_DIR=str(root / "warehouse"),
        MUTUALISE_RAW_DIR=str(root / "raw"),
        MUTUALISE_DUCKDB_MEMORY="500MB",
        COLUMNS="120",
        **extra,
    )
    return env


def _start(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        arguments,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a kill takes its workers too
    )


def run(arguments: list[str], env: dict[str, str]) -> str:
    """Run to completion; fail the test with the output if the command fails."""
    process = _start(arguments, env)
    output, _ = process.communicate(timeout=RUN_TIMEOUT)
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"{' '.join(arguments[2:])} failed:\n{text[-3000:]}"
    return text


@dataclass
class Observed:
    """When each trigger first held during an uninterrupted run, and when the run ended
    (seconds from its start)."""

    fired: dict[str, float]
    ended: float
    output: str

    def remaining(self, name: str) -> float:
        """How long the run went on after `name` first held."""
        return max(self.ended - self.fired[name], 0.0)


def observe(arguments: list[str], env: dict[str, str], triggers: dict[str, Trigger]) -> Observed:
    """Run to completion, noting when each trigger first holds."""
    started = time.monotonic()
    process = _start(arguments, env)
    fired: dict[str, float] = {}
    waiting = dict(triggers)
    while process.poll() is None:
        for name, trigger in list(waiting.items()):
            if trigger():
                fired[name] = time.monotonic() - started
                del waiting[name]
        time.sleep(POLL_SECONDS)
        if time.monotonic() - started > RUN_TIMEOUT:
            _kill(process)
            raise AssertionError(f"{' '.join(arguments[2:])} did not finish")
    ended = time.monotonic() - started
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    assert process.returncode == 0, f"reference run failed:\n{output[-3000:]}"
    missing = set(waiting)
    assert not missing, f"triggers that never held in the reference run: {sorted(missing)}"
    return Observed(fired, ended, output)


@dataclass
class Killed:
    finished: bool  # True when the command ended by itself before the kill
    returncode: int | None
    at: float  # seconds after start
    output: str


def run_and_kill(
    arguments: list[str], env: dict[str, str], trigger: Trigger, delay: float
) -> Killed:
    """Start the command; once `trigger` holds wait `delay` seconds, then SIGKILL its group."""
    started = time.monotonic()
    process = _start(arguments, env)
    deadline: float | None = None
    while process.poll() is None:
        now = time.monotonic()
        if deadline is None and trigger():
            deadline = now + delay
        if deadline is not None and now >= deadline:
            _kill(process)
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            return Killed(False, process.returncode, now - started, output)
        if now - started > RUN_TIMEOUT:
            _kill(process)
            raise AssertionError(f"{' '.join(arguments[2:])} neither finished nor reached its kill")
        time.sleep(POLL_SECONDS)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    return Killed(True, process.returncode, time.monotonic() - started, output)


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


# -- triggers -------------------------------------------------------------------------------------
def new_entry(folder: Path, pattern: str) -> Trigger:
    """Holds once `folder` has an entry matching `pattern` that was not there when made."""
    before = set(folder.glob(pattern)) if folder.exists() else set()

    def trigger() -> bool:
        try:
            return any(path not in before for path in folder.glob(pattern))
        except FileNotFoundError:
            return False

    return trigger


def files_written(folder: Path, pattern: str, count: int) -> Trigger:
    """Holds once `count` files matching `pattern` under `folder` are new or rewritten."""

    def stamps() -> dict[Path, int]:
        found: dict[Path, int] = {}
        if folder.exists():
            for path in folder.glob(pattern):
                try:
                    found[path] = path.stat().st_mtime_ns
                except FileNotFoundError:
                    continue
        return found

    before = stamps()

    def trigger() -> bool:
        now = stamps()
        return sum(1 for path, stamp in now.items() if before.get(path) != stamp) >= count

    return trigger


def batches_committed(warehouse: Path, count: int) -> Trigger:
    """Holds once `count` more ingest batches are listed in the manifest than when made."""
    import orjson

    manifest = warehouse / "raw" / "_manifest.json"

    def batches() -> int:
        try:
            return len(orjson.loads(manifest.read_bytes())["batches"])
        except (FileNotFoundError, orjson.JSONDecodeError):
            return 0

    before = batches()
    return lambda: batches() >= before + count


# -- comparing tables -----------------------------------------------------------------------------
Rows = collections.Counter[tuple[Any, ...]]


def read_rows(
    sources: Iterable[Path] | Path, exclude: Iterable[str] = (), root: Path | None = None
) -> tuple[list[str], Rows]:
    """Every row of a Parquet table (files, or a folder of them), all columns but `exclude`.

    Text that names `root` (file paths stored as provenance) is rewritten relative to it, so two
    runs in two folders compare equal. Rows come back as a multiset: order does not matter, but
    a duplicated row does.
    """
    if isinstance(sources, Path):
        files = sorted(sources.glob("*.parquet")) if sources.is_dir() else [sources]
    else:
        files = sorted(sources)
    listed = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        result = connection.execute(f"SELECT * FROM read_parquet({listed})")
        columns = [column[0] for column in result.description]
        keep = [index for index, name in enumerate(columns) if name not in set(exclude)]
        rows: Rows = collections.Counter()
        prefix = str(root) if root is not None else None
        for row in result.fetchall():
            rows[tuple(_normalise(row[index], prefix) for index in keep)] += 1
    return [columns[index] for index in keep], rows


def _normalise(value: Any, prefix: str | None) -> Any:
    if isinstance(value, str):
        return value.replace(prefix, "<root>") if prefix else value
    if isinstance(value, list):
        return tuple(_normalise(item, prefix) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _normalise(item, prefix)) for key, item in value.items()))
    return value


def assert_same_rows(
    name: str, expected: tuple[list[str], Rows], got: tuple[list[str], Rows]
) -> None:
    """The same columns and the same multiset of rows; name what was lost or duplicated."""
    assert got[0] == expected[0], f"{name}: columns differ: {got[0]} != {expected[0]}"
    lost = expected[1] - got[1]
    extra = got[1] - expected[1]
    if lost or extra:
        sample_lost = [_short(row) for row in list(lost)[:3]]
        sample_extra = [_short(row) for row in list(extra)[:3]]
        raise AssertionError(
            f"{name}: {sum(lost.values())} rows lost and {sum(extra.values())} rows extra "
            f"or duplicated after the interrupted runs (of {sum(expected[1].values())}).\n"
            f"columns: {expected[0]}\nlost e.g. {sample_lost}\nextra e.g. {sample_extra}"
        )


def _short(row: tuple[Any, ...]) -> str:
    text = repr(row)
    return text if len(text) < 400 else text[:400] + "…"
