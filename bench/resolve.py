"""Benchmark supplier resolution: accuracy on a synthetic world, and scale.

    python bench/resolve.py accuracy [--releases 6000] [--seed 7]
    python bench/resolve.py scale [--register-rows 5000000] [--mentions 1000000]

accuracy: generates a world, runs the pipeline, loads its registers and the programme, resolves
with Splink and with the baseline (exact name + identifier only: Splink replaced by an exact,
case-sensitive published-name match), and prints precision/recall of links and of the
PUBLIC_SERVICE_MUTUAL class side by side, with the confusion matrix of classes.

scale: a world whose Companies House file has --register-rows rows (the synth generator's
register_rows), its award suppliers replicated to --mentions rows (copies of each process under
new ocids), then `registers load companies-house` and `resolve`, each in a child process with
its wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _world(
    out: Path, releases: int, seed: int, register_rows: int | None = None
) -> tuple[Path, Path]:
    from mutualise.pipeline.registers.loaders import load_register
    from mutualise.pipeline.registers.programme import programme_from_dict, write_programme_register
    from mutualise.pipeline.run import run_pipeline
    from mutualise.synth.world import generate_world

    world, warehouse = out / "world", out / "wh"
    if not (world / "world.json").exists():
        generate_world(world, releases, seed, register_rows=register_rows)
    if not (warehouse / "tables" / "award_suppliers").exists():
        run_pipeline(sorted((world / "ocds").glob("*/*.gz")), warehouse)
    for register in ("companies-house", "fca", "charities"):
        load_register(register, [world / "registers" / register], warehouse)
    write_programme_register(
        programme_from_dict(json.loads((world / "programme.json").read_text())), warehouse
    )
    return world, warehouse


def baseline(warehouse: Path) -> None:
    """Exact-name-plus-identifier: identifiers as in resolve, then the published name exactly equal
    (case-sensitive, trimmed) to one organisation's registered name; classes by the same rules."""
    import duckdb

    from mutualise.pipeline import resolve as module

    original = module._probabilistic_links

    def exact_only(connection: duckdb.DuckDBPyConnection, rules, engine):
        connection.execute("DROP TABLE IF EXISTS programme_name_link")
        connection.execute(
            "CREATE TEMP TABLE programme_name_link (name_normalised VARCHAR, organisation_identifier VARCHAR)"
        )
        connection.execute("""
        CREATE TEMP TABLE scored AS SELECT NULL::VARCHAR AS mention_key, NULL::VARCHAR AS canonical_identifier,
            NULL::VARCHAR AS register, NULL::VARCHAR AS name, NULL::DOUBLE AS match_probability,
            NULL::DOUBLE AS match_weight, NULL::JSON AS evidence, NULL::BIGINT AS candidate_rank WHERE false""")
        connection.execute("""
        CREATE TEMP TABLE probable_link AS
        WITH names AS (SELECT trim(name) AS name, any_value(canonical_identifier) AS organisation_identifier,
                              any_value(register) AS register
                       FROM register GROUP BY 1 HAVING count(DISTINCT canonical_identifier) = 1)
        SELECT m.mention_key, n.organisation_identifier, n.register, 1.0 AS match_probability,
               json_object('rule', 'exact name') AS evidence, 'accept' AS outcome
        FROM (SELECT DISTINCT mention_key, trim(supplier_name) AS name FROM mention WHERE identity IS NULL) m
        JOIN names n USING (name)
        QUALIFY row_number() OVER (PARTITION BY m.mention_key) = 1""")
        return {"parameters": {"method": "exact name + identifier"}}

    module._probabilistic_links = exact_only
    try:
        module.resolve(warehouse)
    finally:
        module._probabilistic_links = original


def accuracy(args: argparse.Namespace) -> dict:
    from mutualise.pipeline.resolve import resolve
    from mutualise.pipeline.resolve_accuracy import confusion_text, evaluate

    out = Path(args.out)
    world, warehouse = _world(out, args.releases, args.seed)
    started = time.perf_counter()
    summary = resolve(warehouse)
    seconds = time.perf_counter() - started
    ours = evaluate(warehouse / "tables" / "supplier_links", world / "truth")
    base_dir = out / "wh-baseline"
    shutil.rmtree(base_dir, ignore_errors=True)
    shutil.copytree(warehouse, base_dir)
    baseline(base_dir)
    base = evaluate(base_dir / "tables" / "supplier_links", world / "truth")
    rows = [
        ("link precision", "link_precision"),
        ("link recall", "link_recall"),
        ("PSM precision", "psm_precision"),
        ("PSM recall", "psm_recall"),
        ("class accuracy", "class_accuracy"),
    ]
    print(
        f"\nworld: {args.releases} releases, seed {args.seed}; {ours.joined} award supplier mentions; "
        f"resolve {seconds:.1f} s"
    )
    print(f"{'metric':<18}{'baseline':>12}{'splink':>12}")
    for label, key in rows:
        print(f"{label:<18}{getattr(base, key):>12.4f}{getattr(ours, key):>12.4f}")
    print(f"{'links made':<18}{base.links:>12}{ours.links:>12}")
    print("\nmatched by (links, correct):", ours.by_matched_by)
    print("\nconfusion matrix (Splink):\n" + confusion_text(ours))
    print("\nconfusion matrix (baseline):\n" + confusion_text(base))
    return {
        "ours": ours.__dict__,
        "baseline": base.__dict__,
        "seconds": seconds,
        "summary": summary.__dict__,
    }


def _child(code: str) -> tuple[float, float]:
    """Run Python code in a child process; its wall seconds and its own peak RSS in GB.

    `os.wait4` gives the usage of this child alone (RUSAGE_CHILDREN would keep the largest of
    every child so far, so a step would report the register load's peak).
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"child failed with exit code {process.returncode}: {code[:80]}")
    seconds = time.perf_counter() - started
    return seconds, usage.ru_maxrss / 1024 / 1024


def _distinct_copies(connection, warehouse: Path, register_csv: Path) -> None:  # type: ignore[no-untyped-def]
    """Give every copied mention (copies 1, 2, …) a different company from the register.

    Copies of the same mention would share one name, postcode and identifier, and resolve scores
    each distinct mention once, so the scale run would measure the originals only. Each copy
    takes a register row instead: half publish "Ltd" for "LIMITED", and, as in real data
    (DOMAIN.md §5–6), about 30% keep the company number.
    """
    suppliers = warehouse / "tables" / "award_suppliers" / "part-0.parquet"
    parties = warehouse / "tables" / "parties" / "part-0.parquet"
    connection.execute(f"""
        CREATE TEMP TABLE company AS
        SELECT row_number() OVER () AS n, CompanyName AS name, "CompanyNumber" AS number,
               "RegAddress.AddressLine1" AS street, "RegAddress.PostCode" AS postcode
        FROM read_csv('{register_csv}', header = true, all_varchar = true,
                      normalize_names = false)""")
    connection.execute(f"""
        CREATE TEMP TABLE copied AS
        SELECT s.*, dense_rank() OVER (ORDER BY s.ocid, s.supplier_id) AS n
        FROM '{suppliers}' s WHERE s.ocid NOT LIKE '%-copy0'""")
    connection.execute("""
        CREATE TEMP TABLE renamed AS
        SELECT c.* EXCLUDE (n, name, identifier_scheme, identifier_id),
               CASE WHEN hash(c.n) % 2 = 0 THEN regexp_replace(r.name, ' LIMITED$', ' Ltd')
                    ELSE r.name END AS name,
               CASE WHEN hash(c.n) % 10 < 3 THEN 'GB-COH' END AS identifier_scheme,
               CASE WHEN hash(c.n) % 10 < 3 THEN r.number END AS identifier_id,
               r.street, r.postcode
        FROM copied c JOIN company r ON r.n = c.n""")
    columns = [
        row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM '{suppliers}'").fetchall()
    ]
    listed = ", ".join(columns)
    connection.execute(f"""
        COPY (SELECT * FROM '{suppliers}' WHERE ocid LIKE '%-copy0'
              UNION ALL SELECT {listed} FROM renamed)
        TO '{suppliers}.new' (FORMAT parquet)""")
    party_columns = [
        row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM '{parties}'").fetchall()
    ]
    replaced = ", ".join(
        "coalesce(r.street, p.street_address) AS street_address"
        if c == "street_address"
        else "coalesce(r.postcode, p.postal_code) AS postal_code"
        if c == "postal_code"
        else "coalesce(r.name, p.name) AS name"
        if c == "name"
        else f"p.{c}"
        for c in party_columns
    )
    connection.execute(f"""
        COPY (SELECT {replaced} FROM '{parties}' p
              LEFT JOIN (SELECT DISTINCT ocid, supplier_id, name, street, postcode FROM renamed) r
                ON r.ocid = p.ocid AND r.supplier_id = p.party_id)
        TO '{parties}.new' (FORMAT parquet)""")
    for path in (suppliers, parties):
        Path(f"{path}.new").replace(path)


def scale(args: argparse.Namespace) -> dict:
    import duckdb

    out = Path(args.out)
    world = out / "world"
    if not (world / "world.json").exists():
        from mutualise.synth.world import generate_world

        generate_world(world, args.releases, args.seed, register_rows=args.register_rows)
    small = out / "wh-source"
    if not (small / "tables" / "award_suppliers").exists():
        from mutualise.pipeline.run import run_pipeline

        run_pipeline(sorted((world / "ocds").glob("*/*.gz")), small)
    warehouse = out / "wh"
    shutil.rmtree(warehouse / "tables", ignore_errors=True)
    shutil.rmtree(warehouse / "resolve", ignore_errors=True)
    with duckdb.connect() as connection:
        mentions = connection.execute(
            f"SELECT count(*) FROM '{small}/tables/award_suppliers/*.parquet'"
        ).fetchone()[0]
        copies = max(1, -(-args.mentions // mentions))
        for table in ("award_suppliers", "parties", "buyers", "tenders", "lots"):
            target = warehouse / "tables" / table
            target.mkdir(parents=True, exist_ok=True)
            connection.execute(f"""
                COPY (SELECT * REPLACE (ocid || '-copy' || k AS ocid)
                      FROM '{small}/tables/{table}/*.parquet', range({copies}) r(k)
                      {"LIMIT " + str(args.mentions) if table == "award_suppliers" else ""})
                TO '{target}/part-0.parquet' (FORMAT parquet)""")
        if args.distinct:
            register_csv = next((world / "registers" / "companies-house").glob("*.csv"))
            _distinct_copies(connection, warehouse, register_csv)
        distinct = connection.execute(
            "SELECT count(DISTINCT (name, identifier_scheme, identifier_id)) "
            f"FROM '{warehouse}/tables/award_suppliers/*.parquet'"
        ).fetchone()[0]
    with next((world / "registers" / "companies-house").glob("*.csv")).open("rb") as handle:
        csv_rows = sum(1 for _ in handle) - 1
    load_seconds, load_rss = _child(
        "from pathlib import Path; from mutualise.pipeline.registers.loaders import load_register;"
        f"s = load_register('companies-house', [Path('{world}/registers/companies-house')], '{warehouse}', force=True);"
        "print(s.rows_loaded, s.rows_quarantined, round(s.seconds, 1))"
    )
    resolve_seconds, resolve_rss = _child(
        f"from mutualise.pipeline.resolve import resolve; s = resolve('{warehouse}');"
        "print(s.mentions, s.matched_by, s.stage_seconds, round(s.seconds, 1))"
    )
    result = {
        "register_rows": csv_rows,
        "mentions": args.mentions,
        "distinct_supplier_names_and_identifiers": distinct,
        "load_seconds": round(load_seconds, 1),
        "load_peak_rss_gb": round(load_rss, 2),
        "resolve_seconds": round(resolve_seconds, 1),
        "resolve_peak_rss_gb": round(resolve_rss, 2),
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
    }
    print(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("accuracy")
    a.add_argument("--releases", type=int, default=6000)
    a.add_argument("--seed", type=int, default=7)
    a.add_argument("--out", default="/tmp/mutualise-bench-resolve")  # noqa: S108
    s = sub.add_parser("scale")
    s.add_argument("--register-rows", type=int, default=5_000_000)
    s.add_argument("--mentions", type=int, default=1_000_000)
    s.add_argument("--releases", type=int, default=30_000)
    s.add_argument("--seed", type=int, default=11)
    s.add_argument("--out", default="/tmp/mutualise-bench-resolve-scale")  # noqa: S108
    s.add_argument(
        "--copies-repeat",
        dest="distinct",
        action="store_false",
        help="keep copied mentions identical (the earlier, easier run) instead of giving each a "
        "different company",
    )
    args = parser.parse_args()
    (accuracy if args.command == "accuracy" else scale)(args)


if __name__ == "__main__":
    main()
