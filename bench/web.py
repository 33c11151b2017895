"""Benchmark: the public evidence dashboard and an officer page under 100 concurrent users.

    scripts/with-postgres.sh .venv/bin/python bench/web.py --contracts 1000000 [--users 100]
        [--seconds 60] [--write-results]

On the throwaway PostgreSQL that with-postgres.sh starts (DATABASE_URL), it migrates, creates a
small programme (public bodies, groups with journeys, an officer), bulk-loads N contract-watch
contracts with COPY (plus outcomes for a tenth of them), takes an evidence snapshot, serves the
app with gunicorn on 127.0.0.1 (as `mutualise serve` does) and runs locust headless: 80%
signed-out users on the dashboard (with and without filters, a figure page and a chart) and 20%
officers who sign in and open the pipeline and the dashboard. Everything runs on loopback and
stops by itself. Target (DESIGN.md): p95 < 150 ms and zero errors. Writes a `## web` section of
bench/RESULTS.md. The shared machinery is in bench/webload.py.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path

from webload import (
    error_lines,
    get,
    gunicorn,
    load_contracts,
    machine,
    refresh_evidence,
    request_table,
    require_postgres,
    run_locust,
    setup_django,
    write_section,
)

PASSWORD = "correct horse battery staple"  # noqa: S105 - the bench users' password

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
            get(base + path)
        for suffix in (
            "?year_from=2022&year_to=2024",
            "?supplier_class=SME",
            "?region=london",
            "?sector=health&year_from=2023",
            "?buyer=council",
        ):
            get(base + "/evidence/figures/contract-share/" + suffix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    require_postgres()
    work = Path(tempfile.mkdtemp(prefix="mutualise-bench-web-"))
    setup_django(work / "var")
    buyers = seed_programme()
    load_seconds = load_contracts(args.contracts, buyers)
    print(f"loaded {args.contracts:,} contracts in {load_seconds:.0f} s", flush=True)
    snapshot_id, refresh_seconds = refresh_evidence()
    print(f"snapshot {snapshot_id} in {refresh_seconds:.0f} s", flush=True)
    with gunicorn(work, args.workers) as base:
        warm(base)
        # Users arrive over ten seconds: a realistic ramp, and each officer's sign-in (argon2,
        # deliberately slow) is not stacked on every other one in the same second.
        samples = run_locust(
            LOCUSTFILE % PASSWORD, base, args.users, args.seconds, work, args.users / 10
        )
    pages = [s for s in samples if "(post)" not in s.name]
    lines = [
        "## web",
        "",
        f"`scripts/with-postgres.sh .venv/bin/python bench/web.py --contracts {args.contracts}`"
        f" — {date.today():%-d %B %Y}, {machine()}. PostgreSQL (with-postgres.sh), gunicorn"
        f" {args.workers} workers × 4 threads on 127.0.0.1 (keep-alive 75 s, as `mutualise"
        f" serve`), locust headless {args.users} users arriving over 10 s, for"
        f" {args.seconds} s (wait 1–2 s between requests; 80% signed-out dashboard users, 20%"
        " officers who sign in and open the pipeline), all on the same 2 cores.",
        "",
        f"- contracts loaded: {args.contracts:,} (COPY {load_seconds:.0f} s) and"
        f" {args.contracts // 10:,} re-tender outcomes; evidence snapshot {snapshot_id}"
        f" refreshed in {refresh_seconds:.0f} s",
        f"- throughput {len(samples) / args.seconds:.1f} requests/s",
        "- target: p95 < 150 ms over page views, zero errors",
        "",
        *request_table(samples, {"every request": samples, "page views (no sign-in POST)": pages}),
        "",
        *(error_lines(samples) or ["No errors."]),
    ]
    report = "\n".join(lines)
    print(report)
    if args.write_results:
        write_section("web", report)


if __name__ == "__main__":
    main()
