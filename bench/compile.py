"""Benchmark: compiling OCDS releases, ours against `ocdskit compile` on the same input.

    .venv/bin/python bench/compile.py [--real 20000] [--large 1000000] [--ocdskit-large 50000]
        [--world DIR] [--repeat 3]

Inputs (JSON Lines, one release per line):
- real: the Contracts Finder 2025 sample (200 releases, 190 ocids) replicated with rewritten ocids;
- large: with --world, a synthetic world's OCDS as one file (ocdskit gets every release of a
  sample of its ocids, --ocdskit-large releases); without, the sample scaled to --large releases
  (ocdskit on its first --ocdskit-large).

Both tools run as child processes, --repeat times each, in alternating pairs (the report gives
each pair's ratio). Peak memory is the largest sum of PSS (proportional set size, so pages shared
by forked workers count once) over the process and its children, every 50 ms, in one more run of
each: reading PSS slows the run it samples.
CPU seconds (user + system of the process and its reaped workers) are reported beside wall
seconds: on a shared machine they show the work done when the wall clock mostly shows the load.
Ours is measured end to end (ingest + compile, from the same JSON Lines file to compiled
releases) and for the compile step alone. Results go to bench/RESULTS.md (the `## compile`
section is replaced).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(
    os.environ.get(
        "MUTUALISE_OCDS_SAMPLE",
        ROOT
        / "tests/fixtures/ocds/cfserver1-2019-2025/contracts-finder-2025-01-to-03.releases.jsonl",
    )
)
PYTHON = sys.executable
OURS = """
import json, sys, time
from pathlib import Path
from mutualise.pipeline.ingest import ingest
from mutualise.pipeline.compile import compile_releases
started = time.monotonic()
ingested = ingest([Path(sys.argv[1])], Path(sys.argv[2]))
compiled = compile_releases(Path(sys.argv[2]))
print(json.dumps({"releases": ingested.releases_new, "ingest": ingested.seconds,
                  "compile": compiled.seconds, "total": time.monotonic() - started,
                  "compiled": compiled.compiled}))
"""


def scaled_input(path: Path, releases: int) -> Path:
    """Replicate the sample, rewriting ocids so each copy is a new set of processes."""
    lines = [line for line in SAMPLE.read_bytes().splitlines() if line.strip()]
    ocids = [re.search(rb'"ocid": ?"([^"]+)"', line).group(1) for line in lines]  # type: ignore[union-attr]
    written = 0
    with path.open("wb") as out:
        copy = 0
        while written < releases:
            for line, ocid in zip(lines, ocids, strict=True):
                if written >= releases:
                    break
                out.write(line.replace(ocid, ocid + b"-c%d" % copy) if copy else line)
                out.write(b"\n")
                written += 1
            copy += 1
    return path


def world_input(world: Path, target: Path) -> Path:
    """A synthetic world's OCDS files (gzipped JSON Lines of releases and of release packages)
    as one plain JSON Lines file, which both tools read."""
    import gzip
    import shutil

    files = sorted((world / "ocds").rglob("*.jsonl.gz"))
    if not files:
        raise SystemExit(f"no OCDS files under {world / 'ocds'}")
    with target.open("wb") as out:
        for path in files:
            with gzip.open(path, "rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    return target


def count_releases(path: Path) -> int:
    """Releases in a JSON Lines file of releases and release packages."""
    import orjson

    total = 0
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                value = orjson.loads(line)
                total += len(value["releases"]) if "releases" in value else 1
    return total


def whole_ocid_sample(path: Path, target: Path, releases: int) -> Path:
    """About `releases` releases, taking every release of a sample of ocids (chosen by a hash of
    the ocid), so the merge work per release is the same as in the whole input. The first lines
    of a world would cut each process short (its later releases are in later years' files)."""
    import zlib

    import orjson

    total = count_releases(path)
    every = max(1, round(total / releases))

    def chosen(release: dict) -> bool:
        return zlib.crc32(str(release.get("ocid")).encode()) % every == 0

    with path.open("rb") as lines, target.open("wb") as out:
        for line in lines:
            if not line.strip():
                continue
            value = orjson.loads(line)
            if "releases" in value:
                kept = [release for release in value["releases"] if chosen(release)]
                if not kept:
                    continue
                value = {**value, "releases": kept}
            elif chosen(value):
                # A bare release has no version, which ocdskit reads as OCDS 1.0; ingest reads
                # it as 1.1. A 1.1 package around it gives ocdskit the same reading.
                value = {"version": "1.1", "releases": [value]}
            else:
                continue
            out.write(orjson.dumps(value) + b"\n")
    return target


def head(path: Path, target: Path, releases: int) -> Path:
    with path.open("rb") as source, target.open("wb") as out:
        for number, line in enumerate(source):
            if number >= releases:
                break
            out.write(line)
    return target


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    command: list[str],
    stdin: Path | None = None,
    stdout: Path | None = None,
    sample_memory: bool = True,
) -> tuple[float, int, str, float]:
    """Run a command; return (seconds, peak memory (PSS) of the process tree in bytes, or 0
    without `sample_memory`, its output, CPU seconds of the process tree)."""
    cpu_before = _children_cpu()
    started = time.monotonic()
    with open(stdin or os.devnull, "rb") as given, open(stdout or os.devnull, "wb") as taken:
        capture = subprocess.PIPE if stdout is None else taken
        process = subprocess.Popen(command, stdin=given, stdout=capture, stderr=subprocess.DEVNULL)
        peak = _peak_memory(process) if sample_memory else 0
        output = process.communicate()[0]
    seconds = time.monotonic() - started
    if process.returncode:
        raise SystemExit(f"{command[0]} failed with exit code {process.returncode}")
    return seconds, peak, output.decode() if output else "", _children_cpu() - cpu_before


def _peak_memory(process: subprocess.Popen) -> int:
    """The largest PSS of the process and its children, sampled every 50 ms until it ends. PSS,
    not RSS: forked workers share their parent's pages, which RSS would count once per process.
    Reading it costs the kernel a walk of every mapping, which slowed a 12 s run by about 1 s
    here: timed runs do not sample it."""
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_full_info().pss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    return peak


def run_ocdskit(
    path: Path, schema: Path, work: Path, upgrade: bool = False, sample_memory: bool = False
) -> dict:
    """`ocdskit compile`; with `upgrade`, after `ocdskit upgrade 1.0:1.1` in a pipe, as ocdskit
    asks for input that mixes OCDS 1.0 and 1.1 (ours upgrades 1.0 as it ingests)."""
    ocdskit = shlex.quote(str(Path(PYTHON).with_name("ocdskit")))
    compile_command = f"{ocdskit} compile --schema {shlex.quote(str(schema))}"
    command = f"{ocdskit} upgrade 1.0:1.1 | {compile_command}" if upgrade else compile_command
    seconds, peak, _, cpu = measure(
        ["/bin/sh", "-c", command], path, work / "ocdskit.out", sample_memory
    )
    releases = count_releases(path)
    return {
        "releases": releases,
        "seconds": seconds,
        "rate": releases / seconds,
        "cpu": cpu,
        "cpu_rate": releases / cpu,
        "rss": peak,
    }


def run_ours(path: Path, work: Path, sample_memory: bool = False) -> dict:
    import json
    import shutil

    warehouse = Path(tempfile.mkdtemp(dir=work, prefix="warehouse-"))
    command = [PYTHON, "-c", OURS, str(path), str(warehouse)]
    seconds, peak, output, cpu = measure(command, sample_memory=sample_memory)
    shutil.rmtree(warehouse)
    result = json.loads(output.strip().splitlines()[-1])
    releases = result["releases"]
    return {
        "releases": releases,
        "seconds": seconds,
        "rate": releases / seconds,
        "cpu": cpu,
        "cpu_rate": releases / cpu,
        "ingest": result["ingest"],
        "compile": result["compile"],
        "compile_rate": releases / result["compile"],
        "rss": peak,
    }


def alternate(repeat: int, ocdskit: Callable[[bool], dict], ours: Callable[[bool], dict]) -> dict:
    """Run the two tools `repeat` times, one after the other: on a machine whose speed moves with
    its neighbours, each pair of neighbouring runs shares the machine's state, so their ratio
    holds better than either figure does. Then one more run of each, sampling its memory. The
    median timed run of each (with the memory run's peak), and every pair's ratios."""
    pairs = []
    for _ in range(repeat):
        pairs.append((ocdskit(False), ours(False)))
        print(pairs[-1], flush=True)
    theirs_memory, ours_memory = ocdskit(True)["rss"], ours(True)["rss"]
    return {
        "ocdskit": {**_median_run([pair[0] for pair in pairs]), "rss": theirs_memory},
        "ours": {**_median_run([pair[1] for pair in pairs]), "rss": ours_memory},
        "ratios": [ours_["rate"] / theirs["rate"] for theirs, ours_ in pairs],
        "compile_ratios": [ours_["compile_rate"] / theirs["rate"] for theirs, ours_ in pairs],
    }


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["rate"])[len(runs) // 2]


def mb(value: int) -> str:
    return f"{value / 1e6:,.0f} MB"


def report(rows: list[tuple[str, dict]], load: float, repeat: int) -> str:
    lines = [
        "## compile",
        "",
        f"`bench/compile.py`, {date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load:.1f} at the start. "
        "Inputs: the Contracts Finder 2025 sample replicated with rewritten ocids (1.05 releases per "
        "ocid), and a synthetic world (`mutualise synth`; 2.4 releases per ocid, so most ocids go "
        "through the merge) as one JSON Lines file of releases and release packages. "
        "Ours = `ingest` + `compile_releases` as one child process (2 worker processes), from the same "
        "JSON Lines file to compiled releases; ocdskit = `ocdskit compile --schema <shipped patched schema>`. "
        f"Each input: {repeat} timed pairs of runs (ocdskit, then ours); the table shows each "
        "tool's median run, the ratios are each pair's; peak memory comes from one more run of "
        "each, as sampling it slows the run it samples.",
        "",
        "| input | tool | releases | wall seconds | releases/s (wall) | CPU seconds | releases per CPU second | peak memory (PSS) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in rows:
        ocdskit, ours = runs["ocdskit"], runs["ours"]
        lines.append(
            f"| {name} | ocdskit compile | {ocdskit['releases']:,} | {ocdskit['seconds']:.1f} | "
            f"{ocdskit['rate']:,.0f} | {ocdskit['cpu']:.1f} | {ocdskit['cpu_rate']:,.0f} | "
            f"{mb(ocdskit['rss'])} |"
        )
        lines.append(
            f"| {name} | ours: ingest + compile | {ours['releases']:,} | {ours['seconds']:.1f} | "
            f"{ours['rate']:,.0f} | {ours['cpu']:.1f} | {ours['cpu_rate']:,.0f} | {mb(ours['rss'])} |"
        )
        lines.append(
            f"| {name} | ours: compile step alone | {ours['releases']:,} | {ours['compile']:.1f} | "
            f"{ours['compile_rate']:,.0f} | | | (same process) |"
        )
    lines.append("")
    for name, runs in rows:
        ocdskit, ours = runs["ocdskit"], runs["ours"]
        ratios = sorted(runs["ratios"])
        lines.append(
            f"- {name}: ours end to end is **{ratios[len(ratios) // 2]:.1f}×** ocdskit's releases/s "
            f"(median of the pairs' ratios, wall clock: {', '.join(f'{r:.1f}' for r in runs['ratios'])}; "
            f"**{ours['cpu_rate'] / ocdskit['cpu_rate']:.1f}×** per CPU second in the median runs); "
            f"the compile step alone **{sorted(runs['compile_ratios'])[len(ratios) // 2]:.1f}×**."
        )
    lines.append(
        "- Output identical to ocdsmerge: asserted by tests/pipeline/test_merge.py and test_compile.py "
        "(every ocid of the real samples, plus property-based random releases); the C paths "
        "(ADR 0011) give the same bytes as the Python ones: tests/pipeline/test_native.py."
    )
    return "\n".join(lines) + "\n"


def write_results(section: str) -> None:
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## compile\n.*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(section + "\n", text)
        if pattern.search(text)
        else text.rstrip("\n") + "\n\n" + section
    )
    results.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--real", type=int, default=20_000, help="releases in the scaled real sample"
    )
    parser.add_argument(
        "--large", type=int, default=1_000_000, help="releases in the large input (ours)"
    )
    parser.add_argument(
        "--ocdskit-large", type=int, default=50_000, help="releases of it given to ocdskit"
    )
    parser.add_argument(
        "--world",
        type=Path,
        help="large input: this synthetic world's OCDS (from `mutualise synth`) instead of the "
        "scaled sample",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="pairs of runs (ocdskit, then ours) per input"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print instead of updating RESULTS.md"
    )
    args = parser.parse_args()

    from mutualise.pipeline.schema import write_patched_schema

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-compile-") as folder:
        work = Path(folder)
        schema = write_patched_schema(work / "release-schema.json")
        rows = []
        real = scaled_input(work / "real.jsonl", args.real)
        rows.append(
            (
                f"Contracts Finder 2025 × {args.real // 200}",
                alternate(
                    args.repeat,
                    lambda memory: run_ocdskit(real, schema, work, sample_memory=memory),
                    lambda memory: run_ours(real, work, memory),
                ),
            )
        )
        if args.world is not None:
            large = world_input(args.world, work / "world.jsonl")
            subset = whole_ocid_sample(large, work / "subset.jsonl", args.ocdskit_large)
            runs = alternate(
                args.repeat,
                lambda memory: run_ocdskit(subset, schema, work, True, memory),
                lambda memory: run_ours(large, work, memory),
            )
            rows.append(
                (
                    f"synthetic world, {runs['ours']['releases']:,} releases "
                    f"(ocdskit on {runs['ocdskit']['releases']:,}: every release of a sample of ocids)",
                    runs,
                )
            )
        elif args.large:
            large = scaled_input(work / "large.jsonl", args.large)
            subset = head(large, work / "subset.jsonl", min(args.ocdskit_large, args.large))
            rows.append(
                (
                    f"scaled sample, {args.large:,} releases (ocdskit on {min(args.ocdskit_large, args.large):,})",
                    alternate(
                        args.repeat,
                        lambda memory: run_ocdskit(subset, schema, work, sample_memory=memory),
                        lambda memory: run_ours(large, work, memory),
                    ),
                )
            )
    section = report(rows, load, args.repeat)
    print(section)
    if not args.no_write:
        write_results(section)


if __name__ == "__main__":
    main()
