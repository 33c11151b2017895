"""Benchmark: re-tender chains and outcomes against the synthetic world's truth.

    .venv/bin/python bench/chains.py --releases 20000 [--work /tmp/bench-chains] [--engine duckdb]
    .venv/bin/python bench/chains.py --world DIR --warehouse DIR   (reuse a generated world)

Reports precision and recall of predecessor links beside a naive baseline (same buyer + same CPV
division + the next award after the end date), the outcome confusion matrix (truth rows whose
contract has ended by the snapshot, plus EXTENDED), and the time `chains` + `outcomes` take.
Targets (DESIGN.md): precision ≥ 0.95, recall ≥ 0.90; chains + outcomes for 1M releases < 5 min.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from mutualise.pipeline.chains import run_chains
from mutualise.pipeline.outcomes import OUTCOMES, run_outcomes

NAIVE_SQL = """
    SELECT predecessor_ocid, predecessor_award_id, successor_ocid, successor_award_id FROM (
      SELECT p.ocid AS predecessor_ocid, p.award_id AS predecessor_award_id,
             s.ocid AS successor_ocid, s.award_id AS successor_award_id,
             row_number() OVER (PARTITION BY p.ocid, p.award_id
                                ORDER BY coalesce(s.start_date, s.award_date), s.ocid, s.award_id) AS rn
      FROM facts p JOIN facts s ON s.buyer_key = p.buyer_key AND s.cpv_division = p.cpv_division
      WHERE p.end_date IS NOT NULL AND coalesce(s.start_date, s.award_date) > p.end_date AND s.ocid <> p.ocid
    ) x WHERE rn = 1"""


def link_scores(
    connection: duckdb.DuckDBPyConnection, links: str
) -> tuple[int, int, int, float, float]:
    found = connection.execute(f"SELECT count(*) FROM ({links})").fetchone()[0]
    truth = connection.execute("SELECT count(*) FROM truth_links").fetchone()[0]
    correct = connection.execute(f"""
        SELECT count(*) FROM ({links}) l JOIN truth_links t
          ON t.ocid = l.successor_ocid AND t.award_id = l.successor_award_id
         AND t.predecessor_ocid = l.predecessor_ocid AND t.predecessor_award_id = l.predecessor_award_id
    """).fetchone()[0]
    return found, truth, correct, correct / max(found, 1), correct / max(truth, 1)


def evaluate(world: Path, warehouse: Path) -> str:
    c = duckdb.connect()
    c.execute("SET enable_progress_bar = false")
    c.execute(
        f"CREATE VIEW truth_links AS SELECT * FROM read_parquet('{world}/truth/predecessors.parquet') "
        "WHERE predecessor_ocid IS NOT NULL"
    )
    c.execute(
        f"CREATE VIEW truth_outcomes AS SELECT * FROM read_parquet('{world}/truth/outcomes.parquet')"
    )
    c.execute(
        f"CREATE VIEW links AS SELECT * FROM read_parquet('{warehouse}/tables/retender_links/*.parquet')"
    )
    c.execute(
        f"CREATE VIEW facts AS SELECT * FROM read_parquet('{warehouse}/tables/contract_facts/*.parquet')"
    )
    c.execute(
        f"CREATE VIEW outcomes AS SELECT * FROM read_parquet('{warehouse}/tables/contract_outcomes/*.parquet')"
    )
    snapshot = c.execute("SELECT max(as_of) FROM outcomes").fetchone()[0]
    lines = [
        "| method | links found | true links | correct | precision | recall |",
        "|---|---|---|---|---|---|",
    ]
    for name, sql in (("mutualise chains", "SELECT * FROM links"), ("naive baseline", NAIVE_SQL)):
        found, truth, correct, precision, recall = link_scores(c, sql)
        lines.append(
            f"| {name} | {found:,} | {truth:,} | {correct:,} | {precision:.3f} | {recall:.3f} |"
        )
    lines.append("")
    lines.append(
        f"Outcome confusion matrix (rows: truth; columns: predicted; truth rows whose contract "
        f"ended by {snapshot} or was EXTENDED; '-' = no outcome row):"
    )
    lines.append("")
    predicted = [o for o in OUTCOMES if o not in ("ACQUIRED", "WOUND_UP")] + ["-"]
    rows = c.execute(f"""
        SELECT t.outcome AS truth, coalesce(o.outcome, '-') AS predicted, count(*) AS n
        FROM truth_outcomes t LEFT JOIN outcomes o ON o.ocid = t.ocid AND o.award_id = t.award_id
        WHERE CAST(t.final_end AS DATE) <= CAST('{snapshot}' AS DATE) OR t.outcome = 'EXTENDED'
        GROUP BY ALL""").fetchall()
    matrix: dict[tuple[str, str], int] = {(a, b): n for a, b, n in rows}
    truths = sorted({a for a, _, _ in rows})
    lines.append(
        "| truth \\ predicted | "
        + " | ".join(p.replace("_", " ").lower() for p in predicted)
        + " | accuracy |"
    )
    lines.append("|---" * (len(predicted) + 2) + "|")
    total = right = 0
    for t in truths:
        counts = [matrix.get((t, p), 0) for p in predicted]
        n = sum(counts)
        total += n
        right += matrix.get((t, t), 0)
        lines.append(
            f"| {t} | "
            + " | ".join(str(x) for x in counts)
            + f" | {matrix.get((t, t), 0) / max(n, 1):.3f} |"
        )
    lines.append("")
    with_links = any((warehouse / "tables" / "supplier_links").glob("*.parquet"))
    source = (
        "classes from supplier_links (`mutualise resolve`)"
        if with_links
        else "no supplier_links: classes from OCDS details only"
    )
    lines.append(
        f"Outcome accuracy over {total:,} ended contracts: {right / max(total, 1):.3f} ({source})."
    )
    return "\n".join(lines)


def resolve_suppliers(world: Path, warehouse: Path) -> None:
    import subprocess
    import sys

    registers = world / "registers"
    command = [sys.executable, "-m", "mutualise.cli"]
    for register, files in (
        ("companies-house", sorted((registers / "companies-house").glob("*.csv"))),
        ("fca", [registers / "fca" / "SocietyList.csv"]),
        ("charities", sorted((registers / "charities").glob("*"))),
    ):
        subprocess.run(
            [
                *command,
                "registers",
                "load",
                register,
                *map(str, files),
                "--warehouse",
                str(warehouse),
            ],
            check=True,
        )
    subprocess.run(
        [*command, "resolve", "--without-programme", "--warehouse", str(warehouse)], check=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--releases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-chains"))  # noqa: S108
    parser.add_argument("--world", type=Path)
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument(
        "--resolve",
        action="store_true",
        help="load the world's registers and run `mutualise resolve` first",
    )
    args = parser.parse_args()
    world = args.world or args.work / "world"
    warehouse = args.warehouse or args.work / "warehouse"
    if not (world / "world.json").exists():
        from mutualise.synth.world import generate_world

        generate_world(world, releases=args.releases, seed=args.seed)
    if not (warehouse / "tables" / "awards").exists():
        from mutualise.pipeline.run import run_pipeline

        run_pipeline([world / "ocds"], warehouse_dir=warehouse)
    if args.resolve and not (warehouse / "tables" / "supplier_links").exists():
        resolve_suppliers(world, warehouse)
    started = time.perf_counter()
    chains = run_chains(warehouse, engine=args.engine)
    middle = time.perf_counter()
    outcomes = run_outcomes(warehouse, engine=args.engine)
    ended = time.perf_counter()
    releases = __import__("json").loads((world / "world.json").read_text())["releases"]
    print(f"## chains ({releases:,} releases, engine {args.engine})\n")
    print(
        f"{chains.contracts:,} contracts, {chains.candidates:,} candidate pairs, {chains.links:,} links; "
        f"chains {middle - started:.1f} s + outcomes {ended - middle:.1f} s = {ended - started:.1f} s\n"
    )
    print(evaluate(world, warehouse))
    print(f"\nOutcomes: {outcomes.outcomes}")


if __name__ == "__main__":
    main()
