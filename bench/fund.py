"""Benchmark: the officer's round summary and the paged application list, with 10,000
applications and 2,000 awards loaded, against a plain SELECT count(*) over the same tables.

    .venv/bin/python bench/fund.py [--applications 10000] [--awards 2000] [--repeats 200]
        [--write-results]

Uses a fresh SQLite file in a temporary directory, or, when DATABASE_URL points at PostgreSQL,
a fresh database created beside it (and dropped afterwards). Seeds with bulk_create, then times
Django test-client requests (the whole view: permission check, queries, template) many times.
The floor is the same number of `SELECT count(*)` round trips over fund_application and
fund_ledgerentry for the round. Prints p50/p95 and, with --write-results, writes a `## fund`
section of bench/RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def prepare_database(args: argparse.Namespace) -> tuple[str, str | None]:
    var_dir = tempfile.mkdtemp(prefix="fund-bench-")
    os.environ["MUTUALISE_VAR_DIR"] = var_dir
    os.environ["MUTUALISE_MODE"] = "test"
    os.environ["MUTUALISE_ALLOWED_HOSTS"] = "testserver,localhost"
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        name = f"fund_bench_{os.getpid()}"
        with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        parts = urlsplit(url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        return "PostgreSQL", name
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
    return "SQLite (file, WAL)", None


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgres://", "postgresql://", 1
    )


def drop_database(original_url: str, name: str | None) -> None:
    if not name:
        return
    import psycopg

    with psycopg.connect(_libpq_url(original_url), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def seed(applications: int, awards: int) -> tuple[int, object]:
    from django.conf import settings
    from django.utils import timezone

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from mutualise.core.models import RoleAssignment, User
    from mutualise.fund import services
    from mutualise.fund.models import Application, Award, LedgerEntry
    from mutualise.organisations.models import Organisation
    from mutualise.organisations.reference import region_choices, sector_choices

    rng = random.Random(7)
    officer = User.objects.create_user("bench-officer", password="bench-password-2026")  # noqa: S106
    RoleAssignment.objects.create(user=officer, role="programme_officer")
    fund = services.create_fund(actor=officer, name="Bench fund")
    now = timezone.now()
    fund_round = services.create_round(
        actor=officer,
        fund=fund,
        name="Bench round",
        budget_pence=awards * 2_500_000,
        maximum_award_pence=2_500_000,
        opens_at=now - timedelta(days=60),
        closes_at=now + timedelta(days=60),
        eligibility_rules=["E1", "E2"],
    )
    sectors = [code for code, _ in sector_choices()]
    regions = [code for code, _ in region_choices()]
    parent = Organisation.objects.create(name="Bench council", kind="public_body")
    organisations = Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"Bench group {n:05d}",
                kind="staff_group",
                parent_body=parent,
                reference=f"bench-{n:05d}",
                sector=rng.choice(sectors),
                region=rng.choice(regions),
            )
            for n in range(applications)
        ],
        batch_size=2000,
    )
    statuses = [
        "submitted",
        "in_assessment",
        "rejected",
        "draft",
        "more_information_requested",
        "withdrawn",
    ]
    rows = []
    for n, organisation in enumerate(organisations):
        status = "approved" if n < awards else rng.choice(statuses)
        amount = rng.randrange(5_000, 25_001) * 100
        rows.append(
            Application(
                round=fund_round,
                organisation=organisation,
                reference=f"B-{n:05d}",
                status=status,
                answers={"project_title": f"Project {n}", "amount_requested": amount},
                project_title=f"Project {n}",
                amount_requested_pence=amount,
                submitted_at=None if status == "draft" else now - timedelta(minutes=n),
            )
        )
    created = Application.objects.bulk_create(rows, batch_size=2000)
    award_rows = Award.objects.bulk_create(
        [
            Award(
                application=a,
                round=fund_round,
                approved_amount_pence=a.amount_requested_pence,
                approved_by=officer,
            )
            for a in created[:awards]
        ],
        batch_size=2000,
    )
    entries = []
    for award in award_rows:
        entries.append(
            LedgerEntry(
                round=fund_round,
                award=award,
                kind="commitment",
                amount_pence=award.approved_amount_pence,
                created_by=officer,
                reason="Award",
            )
        )
        if rng.random() < 0.6:
            entries.append(
                LedgerEntry(
                    round=fund_round,
                    award=award,
                    kind="payment",
                    amount_pence=award.approved_amount_pence // 2,
                    created_by=officer,
                    reason="Milestone 1",
                )
            )
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    from django.db import connection

    with connection.cursor() as cursor:  # as autovacuum would after a bulk load
        cursor.execute("ANALYZE")
    return fund_round.pk, officer


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(label: str, call, repeats: int) -> dict[str, float | str]:
    for _ in range(3):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return {"label": label, "p50": statistics.median(times), "p95": percentile(times, 0.95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--awards", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    original_url = os.environ.get("DATABASE_URL", "")
    engine, created_name = prepare_database(args)
    try:
        run(args, engine)
    finally:
        drop_database(original_url, created_name)


def run(args: argparse.Namespace, engine: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualise.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    round_id, officer = seed(args.applications, args.awards)
    seeded = time.perf_counter() - start
    client = Client()
    client.force_login(officer)

    def get(url: str):
        def call() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return call

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM fund_application WHERE round_id = %s", [round_id])
            cursor.fetchone()
            cursor.execute("SELECT count(*) FROM fund_ledgerentry WHERE round_id = %s", [round_id])
            cursor.fetchone()

    results = [
        measure(
            "floor: SELECT count(*) over fund_application + fund_ledgerentry", floor, args.repeats
        ),
        measure(
            "round summary (/fund/rounds/<id>/)", get(f"/fund/rounds/{round_id}/"), args.repeats
        ),
        measure(
            "application list, page 1", get(f"/fund/rounds/{round_id}/applications/"), args.repeats
        ),
        measure(
            "application list, page 100",
            get(f"/fund/rounds/{round_id}/applications/?page=100"),
            args.repeats,
        ),
        measure(
            "application list, status filter, page 10",
            get(f"/fund/rounds/{round_id}/applications/?status=approved&page=10"),
            args.repeats,
        ),
    ]
    floor_p50 = results[0]["p50"]
    print(
        f"{engine}: {args.applications:,} applications, {args.awards:,} awards "
        f"(seeded in {seeded:.1f} s), {args.repeats} requests each"
    )
    for item in results:
        ratio = item["p50"] / floor_p50 if floor_p50 else float("nan")
        print(
            f"  {item['label']:<66} p50 {item['p50']:8.2f} ms  p95 {item['p95']:8.2f} ms"
            f"  ({ratio:,.0f}× floor p50)"
        )
    if args.write_results:
        write_results(engine, args, results, seeded)


def write_results(
    engine: str, args: argparse.Namespace, results: list[dict], seeded: float
) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    load = os.getloadavg()[0]
    floor_p50 = results[0]["p50"]
    table = [
        f"### {engine}",
        "",
        f"`bench/fund.py`, {date.today():%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
        f"{load:.1f} at the end. {args.applications:,} applications, "
        f"{args.awards:,} awards, seeded in {seeded:.1f} s; {args.repeats} Django test-client "
        "requests per row (whole view: permission check, queries, template).",
        "",
        "| what | p50 (ms) | p95 (ms) | p50 ÷ floor |",
        "|---|---:|---:|---:|",
    ]
    for item in results:
        table.append(
            f"| {item['label']} | {item['p50']:.2f} | {item['p95']:.2f} | "
            f"{item['p50'] / floor_p50:,.0f}× |"
        )
    block = "\n".join(table) + "\n"
    header = "## fund"
    if header not in text:
        text = text.rstrip("\n") + f"\n\n{header}\n\n{block}"
    else:
        start = text.index(header)
        end = text.find("\n## ", start + len(header))
        section = text[start:] if end == -1 else text[start : end + 1]
        sub = f"### {engine}"
        if sub in section:
            s_start = section.index(sub)
            s_end = section.find("\n### ", s_start + len(sub))
            rest = "" if s_end == -1 else "\n" + section[s_end + 1 :]
            section = section[:s_start] + block + rest
        else:
            section = section.rstrip("\n") + "\n\n" + block
        section = section.rstrip("\n") + "\n"
        text = text[:start] + section + ("" if end == -1 else "\n" + text[end + 1 :])
    path.write_text(text, encoding="utf-8")
    print(f"wrote the fund section of {path}")


if __name__ == "__main__":
    main()
