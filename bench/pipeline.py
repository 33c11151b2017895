"""Benchmark: the whole pipeline (ingest → compile → flatten) on N releases.

    .venv/bin/python bench/pipeline.py [--releases 1000000] [--engine duckdb] [--synth]

Input: the Contracts Finder 2025 sample replicated with rewritten ocids (as in bench/compile.py),
or with --synth the teammates' synthetic world (`mutualise.synth.world.generate_world`).
The pipeline runs as a child process; peak memory (PSS) is sampled over it and its workers. Target
(DESIGN.md): 1M releases in under 5 minutes and 2 GB. Results replace the `## pipeline` section
of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = """
import json, sys, time
from pathlib import Path
from mutualise.pipeline.ingest import ingest
from mutualise.pipeline.compile import compile_releases
from mutualise.pipeline.flatten import flatten
warehouse = Path(sys.argv[2])
t0 = time.monotonic(); ingested = ingest([Path(sys.argv[1])], warehouse)
t1 = time.monotonic(); compiled = compile_releases(warehouse)
t2 = time.monotonic(); flattened = flatten(warehouse, engine=sys.argv[3])
t3 = time.monotonic()
print(json.dumps({"releases": ingested.releases_new, "quarantined": ingested.quarantined,
                  "ingest": t1 - t0, "compile": t2 - t1, "flatten": t3 - t2, "total": t3 - t0,
                  "rows": flattened.rows}))
"""


def _compile_bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_compile", ROOT / "bench" / "compile.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def synthetic_input(work: Path, releases: int, seed: int) -> Path:
    from mutualise.synth.world import generate_world

    generate_world(work / "world", releases, seed=seed)
    return work / "world" / "ocds"  # the OCDS files only (not the registers)


def reused_world(world: Path, releases: int, seed: int) -> Path:
    """A world generated once (a 1M world takes several minutes to write) and kept."""
    if not (world / "world.json").exists():
        from mutualise.synth.world import generate_world

        generate_world(world, releases, seed=seed)
    return world / "ocds"


def _describe_input(args: argparse.Namespace) -> str:
    if args.world is not None:
        spec = json.loads((args.world / "world.json").read_text())
        return f"synthetic world {args.world} (seed {spec.get('seed', '?')})"
    if args.synth:
        return f"synthetic world (seed {args.seed})"
    return "Contracts Finder 2025 sample replicated"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--releases", type=int, default=1_000_000)
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument(
        "--synth", action="store_true", help="use mutualise.synth instead of the scaled sample"
    )
    parser.add_argument(
        "--world",
        type=Path,
        help="a synthetic world folder to reuse (generated there with --releases and --seed "
        "first if it has no world.json); implies --synth",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of a generated world")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    helpers = _compile_bench()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        work = Path(folder)
        if args.world is not None:
            source = reused_world(args.world, args.releases, args.seed)
        elif args.synth:
            source = synthetic_input(work, args.releases, args.seed)
        else:
            source = helpers.scaled_input(work / "input.jsonl", args.releases)  # type: ignore[attr-defined]
        _seconds, peak, output, cpu = helpers.measure(  # type: ignore[attr-defined]
            [sys.executable, "-c", RUN, str(source), str(work / "warehouse"), args.engine]
        )
    result = json.loads(output.strip().splitlines()[-1])
    verdict = "meets" if result["total"] < 300 and peak < 2e9 else "misses"
    section = "\n".join(
        [
            "## pipeline",
            "",
            f"`bench/pipeline.py`, {date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {load:.1f} at the start. "
            f"Input: {_describe_input(args)}, "
            f"{result['releases']:,} releases; engine {args.engine}.",
            "",
            "| step | seconds |",
            "|---|---:|",
            f"| ingest | {result['ingest']:.1f} |",
            f"| compile | {result['compile']:.1f} |",
            f"| flatten | {result['flatten']:.1f} |",
            f"| **total** | **{result['total']:.1f}** |",
            "",
            f"CPU seconds (process tree, user + system): {cpu:.0f}. "
            f"Peak memory (PSS, process tree): {peak / 1e6:,.0f} MB. Rows: "
            + ", ".join(f"{name} {rows:,}" for name, rows in result["rows"].items())
            + f". Target: 1M releases < 300 s and < 2 GB — this run **{verdict}** at this size.",
            "",
        ]
    )
    print(section)
    if not args.no_write:
        results = ROOT / "bench" / "RESULTS.md"
        text = results.read_text() if results.exists() else "# Benchmark results\n"
        pattern = re.compile(r"^## pipeline\n.*?(?=^## |\Z)", re.S | re.M)
        text = (
            pattern.sub(section + "\n", text)
            if pattern.search(text)
            else text.rstrip("\n") + "\n\n" + section
        )
        results.write_text(text)


if __name__ == "__main__":
    main()
