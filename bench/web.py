"""Benchmark: the public evidence dashboard and an officer page under 100 concurrent users.

    scripts/with-postgres.sh .venv/bin/python bench/web.py --contracts 1000000 [--users 100]
        [--seconds 60] [--write-results]

On the throwaway PostgreSQL that with-postgres.sh starts (DATABASE_URL), it migrates, creates a
small programme (public bodies, groups with journeys, an officer), bulk-loads N contract-watch
contracts with COPY (plus outcomes for a tenth of them), takes an evidence snapshot, serves the
app with gunicorn on 127.0.0.1 and runs locust headless: 80% signed-out users on the dashboard
(with and without filters, a figure page and a chart) and 20% officers who sign in and open the
pipeline and the dashboard. Everything runs on loopback and stops by itself.
Target (DESIGN.md): p95 < 150 ms and zero errors. Writes a `## web` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
PASSWORD = "correct horse battery staple"  # noqa: S105 - the test users' password
CLASSES = (
    "PUBLIC_SERVICE_MUTUAL",
    "OTHER_SOCIAL_ENTERPRISE_OR_VCSE",
    "SME",
    "LARGE_PRIVATE",
    "PUBLIC_BODY",
    "UNKNOWN",
)
CLASS_WEIGHTS = (3, 12, 40, 30, 10, 5)
CPVS = (
    "85100000",
    "85323000",
    "85311000",
    "85312000",
    "80110000",
    "92500000",
    "92610000",
    "80300000",
    "79622000",
    "98133000",
    "72000000",
    "79410000",
    "45000000",
)
OUTCOMES = (
    "RETAINED",
    "LOST_TO_LARGE_PRIVATE",
    "LOST_TO_SME_OR_VCSE",
    "INSOURCED",
    "PENDING",
    "EXTENDED",
    "UNKNOWN",
)

LOCUSTFILE = r"""
import random, re
from locust import HttpUser, between, task

FILTERS = ["", "?year_from=2022&year_to=2024", "?supplier_class=SME", "?region=london",
           "?sector=health&year_from=2023", "?buyer=council"]


class Public(HttpUser):
    weight = 4
    wait_time = between(1, 2)

    @task(6)
    def dashboard(self):
        self.client.get("/evidence/" + random.choice(FILTERS), name="/evidence/ (filters)")

    @task(2)
    def figure(self):
        self.client.get("/evidence/figures/contract-share/" + random.choice(FILTERS),
                        name="/evidence/figures/contract-share/")

    @task(1)
    def chart(self):
        self.client.get("/evidence/charts/contract-share.svg", name="/evidence/charts/*.svg")


class Officer(HttpUser):
    weight = 1
    wait_time = between(1, 2)

    def on_start(self):
        page = self.client.get("/sign-in/", name="/sign-in/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        self.client.post("/sign-in/", {"username": "bench-officer", "password": "%s",
                                       "csrfmiddlewaretoken": token}, name="/sign-in/ (post)")

    @task(3)
    def pipeline(self):
        self.client.get("/journeys/", name="/journeys/ (officer pipeline)")

    @task(1)
    def dashboard(self):
        self.client.get("/evidence/", name="/evidence/ (officer)")
"""


def setup_django(var_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualise.config.settings")
    os.environ["MUTUALISE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("MUTUALISE_MODE", "demo")
    import django

    django.setup()


def seed_programme() -> list[str]:
    from django.core.management import call_command
    from tests.factories import (
        JourneyFactory,
        OrganisationFactory,
        PublicBodyFactory,
        UserFactory,
        grant,
    )

    call_command("migrate", "--no-input", "-v", "0")
    regions = ["london", "north-west", "yorkshire-humber", "south-west", "west-midlands"]
    bodies = [
        PublicBodyFactory(name=f"Bench Borough Council {n}", region=regions[n % 5])
        for n in range(20)
    ]
    stages = [
        "EXPLORE",
        "OPTIONS_APPRAISAL",
        "BUSINESS_CASE",
        "LIVE",
        "GROW_AND_DIVERSIFY",
        "RETENDER",
    ]
    for n in range(60):
        organisation = OrganisationFactory(
            name=f"Bench Group {n}",
            reference=f"org-{n:03d}",
            parent_body=bodies[n % 20],
            kind="mutual"
            if stages[n % 6] in {"LIVE", "GROW_AND_DIVERSIFY", "RETENDER"}
            else "staff_group",
            staff_count=50 + n,
            region=regions[n % 5],
        )
        JourneyFactory(organisation=organisation, stage=stages[n % 6])
    grant(UserFactory(username="bench-officer"), "programme_officer")
    return [body.name for body in bodies]


def load_contracts(count: int, buyers: list[str]) -> float:
    """COPY `count` contracts and outcomes for a tenth of them; returns seconds."""
    from django.db import connection

    started = time.monotonic()
    rng = random.Random(2026)
    buyer_names = buyers + [f"Other Buyer {n}" for n in range(400)]
    columns = (
        "ocid",
        "award_id",
        "process_ocid",
        "title",
        "cpv",
        "buyer_identifier",
        "buyer_name",
        "buyer_key",
        "supplier_identifier",
        "supplier_name",
        "supplier_class",
        "value_pence",
        "award_date",
        "start_date",
        "end_date",
        "extended",
        "reserved",
        "procedure",
        "missed_reservation",
        "reservation_regime",
        "content_hash",
        "loaded_at",
    )
    loaded_at = "2025-07-01 00:00:00+00"
    base = date(2016, 1, 1)
    with connection.cursor() as cursor:
        chunk = 100_000
        for offset in range(0, count, chunk):
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for n in range(offset, min(count, offset + chunk)):
                award = base + timedelta(days=rng.randrange(0, 3500))
                start = award + timedelta(days=30)
                end = start + timedelta(days=rng.choice((364, 729, 1094, 1825)))
                buyer = rng.choice(buyer_names)
                writer.writerow(
                    (
                        f"ocds-bench-{n:07d}",
                        "1",
                        "",
                        f"Community service contract {n}",
                        rng.choice(CPVS),
                        "",
                        buyer,
                        buyer.lower(),
                        "",
                        f"Supplier {n % 50000}",
                        rng.choices(CLASSES, CLASS_WEIGHTS)[0],
                        rng.randrange(10_000_00, 5_000_000_00),
                        award.isoformat(),
                        start.isoformat(),
                        end.isoformat(),
                        "f",
                        "t" if rng.random() < 0.01 else "f",
                        "",
                        "f",
                        "",
                        "x",
                        loaded_at,
                    )
                )
            with cursor.cursor.copy(
                f"COPY watch_watchedcontract ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            ) as copy:
                copy.write(buffer.getvalue())
        cursor.execute(f"""
            INSERT INTO watch_contractoutcome (contract_id, outcome, confidence, reason,
                source_rows, successor_ocid, successor_award_id, successor_class,
                successor_supplier_name, as_of)
            SELECT id, (ARRAY[{", ".join(repr(o) for o in OUTCOMES)}])[1 + (id % {len(OUTCOMES)})],
                   0.9, 'bench', '', '', '', '', '', DATE '2025-06-30'
            FROM watch_watchedcontract WHERE id % 10 = 0""")
        cursor.execute("ANALYZE")
    return time.monotonic() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer at {url}")


def warm(base: str) -> None:
    paths = [
        "/evidence/",
        "/evidence/?year_from=2022&year_to=2024",
        "/evidence/?supplier_class=SME",
        "/evidence/?region=london",
        "/evidence/?sector=health&year_from=2023",
        "/evidence/?buyer=council",
        "/evidence/figures/contract-share/",
        "/evidence/charts/contract-share.svg",
    ]
    for _ in range(4):  # every worker process fills its own cache
        for path in paths:
            with urllib.request.urlopen(base + path, timeout=120) as response:  # noqa: S310
                response.read()
        for suffix in (
            "?year_from=2022&year_to=2024",
            "?supplier_class=SME",
            "?region=london",
            "?sector=health&year_from=2023",
            "?buyer=council",
        ):
            url = base + "/evidence/figures/contract-share/" + suffix
            with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - loopback
                response.read()


def run_locust(base: str, users: int, seconds: int, work: Path) -> dict[str, str]:
    locustfile = work / "locustfile.py"
    locustfile.write_text(LOCUSTFILE % PASSWORD)
    prefix = work / "stats"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(max(1, users // 5)),
            "-t",
            f"{seconds}s",
            "--host",
            base,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "5",
        ],
        check=False,
        timeout=seconds + 120,
        cwd=work,
    )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {row["Name"]: row for row in rows}


def write_results(text: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    section = re.compile(r"^## web\n.*?(?=^## |\Z)", re.S | re.M)
    existing = section.sub("", existing).rstrip() + "\n\n"
    path.write_text(existing + text.rstrip() + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("run under scripts/with-postgres.sh (DATABASE_URL must point at PostgreSQL)")
    work = Path(tempfile.mkdtemp(prefix="mutualise-bench-web-"))
    setup_django(work / "var")
    buyers = seed_programme()
    load_seconds = load_contracts(args.contracts, buyers)
    print(f"loaded {args.contracts:,} contracts in {load_seconds:.0f} s", flush=True)
    from mutualise.evidence.services import refresh_snapshot

    started = time.monotonic()
    snapshot = refresh_snapshot()
    refresh_seconds = time.monotonic() - started
    print(f"snapshot {snapshot.snapshot_id} in {refresh_seconds:.0f} s", flush=True)
    from django.db import connections

    connections.close_all()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MUTUALISE_VAR_DIR": str(work / "var"),
        "MUTUALISE_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MUTUALISE_CONN_MAX_AGE": "60",
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mutualise.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        env=env,
        start_new_session=True,
    )
    try:
        wait_for(base + "/evidence/", 120)
        warm(base)
        stats = run_locust(base, args.users, args.seconds, work)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    total = stats["Aggregated"]
    lines = [
        "## web",
        "",
        f"`scripts/with-postgres.sh .venv/bin/python bench/web.py --contracts {args.contracts}`"
        f" — {date.today():%-d %B %Y}, this 2-core machine; PostgreSQL (with-postgres.sh), gunicorn"
        f" {args.workers} workers × 4 threads on 127.0.0.1, locust headless {args.users} users"
        f" for {args.seconds} s (wait 1–2 s between requests; 80% signed-out dashboard users, 20%"
        " officers who sign in and open the pipeline).",
        "",
        f"- contracts loaded: {args.contracts:,} (COPY {load_seconds:.0f} s) and"
        f" {args.contracts // 10:,} re-tender outcomes; evidence snapshot {snapshot.snapshot_id}"
        f" refreshed in {refresh_seconds:.0f} s",
        f"- requests: {int(total['Request Count']):,}, errors: {int(total['Failure Count'])},"
        f" throughput {float(total['Requests/s']):.1f} req/s",
        f"- latency, all requests: p50 {total['50%']} ms, p95 {total['95%']} ms,"
        f" p99 {total['99%']} ms (target p95 < 150 ms, zero errors)",
        "",
        "| request | count | errors | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in sorted(stats.items()):
        if name != "Aggregated":
            lines.append(
                f"| {row['Type']} {name} | {row['Request Count']} | {row['Failure Count']}"
                f" | {row['50%']} | {row['95%']} |"
            )
    report = "\n".join(lines)
    print(report)
    if args.write_results:
        write_results(report)


if __name__ == "__main__":
    main()
