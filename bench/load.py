"""Benchmark: 200 simulated users — officers, applicants and the public — for 120 seconds.

    scripts/with-postgres.sh .venv/bin/python bench/load.py --contracts 1000000 [--users 200]
        [--seconds 120] [--write-results]

On the throwaway PostgreSQL that with-postgres.sh starts, it seeds the demo programme world
(the same one `make demo` loads: funds, rounds, applications, journeys, ambassadors and their
sign-ins), bulk-loads N contract-watch contracts (about twenty held by each programme mutual, so
the radar and timelines are full), takes an evidence snapshot, serves the app with gunicorn as
`mutualise serve` does and runs locust headless on loopback:

- the public (60%): the dashboard with filters, figure pages, the rows behind a figure, charts
  and the JSON API;
- applicants (30%): staff group members who sign in, open their journey, the fund pages and
  their draft application, and save a page of it ("save and come back": a real write, through
  validation, the audit log and the database);
- programme officers (10%): the pipeline with filters, a group's journey, a round's
  applications, the re-tender radar and the dashboard.

The hardening issue's bar: zero errors, p95 recorded beside bench/web.py's figure. Writes a
`## load` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
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

LOCUSTFILE = r"""
import json, os, random, re
from locust import HttpUser, between, task

USERS = json.loads(os.environ["BENCH_USERS"])
PASSWORD = os.environ["BENCH_PASSWORD"]
FILTERS = ["", "?year_from=2022&year_to=2024", "?supplier_class=SME", "?region=london",
           "?sector=health&year_from=2023", "?buyer=council"]
FIGURES = ["contract-share", "retender-outcomes", "fund-money", "mutuals-by-stage"]


def sign_in(client, username):
    page = client.get("/sign-in/", name="/sign-in/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    client.post("/sign-in/", {"username": username, "password": PASSWORD,
                              "csrfmiddlewaretoken": token}, name="/sign-in/ (post)")


class Public(HttpUser):
    weight = 6
    wait_time = between(1, 3)

    @task(5)
    def dashboard(self):
        self.client.get("/evidence/" + random.choice(FILTERS), name="/evidence/ (filters)")

    @task(2)
    def figure(self):
        self.client.get(f"/evidence/figures/{random.choice(FIGURES)}/" + random.choice(FILTERS),
                        name="/evidence/figures/<figure>/")

    @task(1)
    def rows(self):
        self.client.get(f"/evidence/rows/contract-share/?page={random.randint(1, 50)}",
                        name="/evidence/rows/<figure>/")

    @task(1)
    def chart(self):
        self.client.get(f"/evidence/charts/{random.choice(FIGURES)}.svg",
                        name="/evidence/charts/<figure>.svg")

    @task(1)
    def api(self):
        self.client.get(f"/api/metrics/{random.choice(FIGURES)}", name="/api/metrics/<figure>")


class Applicant(HttpUser):
    weight = 3
    wait_time = between(2, 5)

    def on_start(self):
        self.username, self.application = random.choice(USERS["applicants"])
        sign_in(self.client, self.username)

    @task(3)
    def journey(self):
        self.client.get("/journeys/mine/", name="/journeys/mine/")

    @task(2)
    def fund(self):
        self.client.get("/fund/", name="/fund/")

    @task(3)
    def task_list(self):
        self.client.get(f"/fund/applications/{self.application}/tasks/",
                        name="/fund/applications/<id>/tasks/")

    @task(2)
    def save_and_come_back(self):
        url = f"/fund/applications/{self.application}/questions/project_title/"
        page = self.client.get(url, name="/fund/applications/<id>/questions/<slug>/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if token is None:
            return
        data = {"answer": f"Growing community services {random.randint(1, 10**6)}",
                "csrfmiddlewaretoken": token.group(1), "return": "1"}
        with self.client.post(url, data=data, allow_redirects=False, catch_response=True,
                              name="/fund/applications/<id>/questions/<slug>/ (post)") as response:
            if response.status_code != 302:
                response.failure(f"saving answered {response.status_code}, not a redirect")


class Officer(HttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        sign_in(self.client, random.choice(USERS["officers"]))

    @task(3)
    def pipeline(self):
        self.client.get("/journeys/" + random.choice(["", "?stage=LIVE", "?region=london"]),
                        name="/journeys/ (officer pipeline)")

    @task(2)
    def group(self):
        self.client.get(f"/journeys/{random.choice(USERS['journeys'])}/", name="/journeys/<id>/")

    @task(1)
    def applications(self):
        self.client.get(f"/fund/rounds/{random.choice(USERS['rounds'])}/applications/",
                        name="/fund/rounds/<id>/applications/")

    @task(1)
    def radar(self):
        self.client.get("/watch/", name="/watch/ (radar)")

    @task(1)
    def dashboard(self):
        self.client.get("/evidence/", name="/evidence/ (officer)")
"""


def seed_world(seed: int) -> dict[str, list]:
    """The demo programme world; returns who the simulated users sign in as."""
    from django.core.management import call_command
    from django.utils import timezone

    from mutualise.core.demo import seed_world as seed_programme
    from mutualise.core.roles import Role
    from mutualise.fund.models import Application, FundRound
    from mutualise.journeys.models import Journey
    from mutualise.synth.programme import generate_programme

    call_command("migrate", "--no-input", "-v", "0")
    seed_programme(generate_programme(seed, "small"), seed)
    now = timezone.now()
    drafts = Application.objects.filter(
        status="draft", round__opens_at__lte=now, round__closes_at__gt=now
    ).select_related("organisation")
    applicants = []
    for application in drafts:
        username = f"{application.organisation.reference}-member"
        applicants.append([username, application.pk])
    from mutualise.core.models import User

    officers = list(
        User.objects.filter(role_assignments__role=Role.PROGRAMME_OFFICER).values_list(
            "username", flat=True
        )
    )
    return {
        "applicants": applicants,
        "officers": officers,
        "journeys": list(Journey.objects.values_list("pk", flat=True)),
        "rounds": list(FundRound.objects.values_list("pk", flat=True)),
    }


def mutual_ids() -> list[int]:
    from mutualise.organisations.models import Organisation, OrganisationKind

    return list(
        Organisation.objects.filter(kind=OrganisationKind.MUTUAL).values_list("pk", flat=True)
    )


def buyer_names() -> list[str]:
    from mutualise.organisations.models import Organisation, OrganisationKind

    return list(
        Organisation.objects.filter(kind=OrganisationKind.PUBLIC_BODY).values_list(
            "name", flat=True
        )
    )


def warm(base: str) -> None:
    for _ in range(4):  # every worker process fills its own cache
        for path in ("/evidence/", "/evidence/figures/contract-share/", "/api/metrics"):
            get(base + path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    require_postgres()
    work = Path(tempfile.mkdtemp(prefix="mutualise-bench-load-"))
    setup_django(work / "var")
    from mutualise.core.demo import DEMO_PASSWORD

    users = seed_world(args.seed)
    if not users["applicants"] or not users["officers"]:
        raise SystemExit("the demo world has no draft applications or officers to sign in as")
    load_seconds = load_contracts(args.contracts, buyer_names(), mutual_ids())
    print(f"loaded {args.contracts:,} contracts in {load_seconds:.0f} s", flush=True)
    snapshot_id, refresh_seconds = refresh_evidence()
    print(f"snapshot {snapshot_id} in {refresh_seconds:.0f} s", flush=True)
    os.environ["BENCH_USERS"] = json.dumps(users)
    os.environ["BENCH_PASSWORD"] = DEMO_PASSWORD
    with gunicorn(work, args.workers) as base:
        warm(base)
        samples = run_locust(LOCUSTFILE, base, args.users, args.seconds, work, args.users / 20)
    pages = [s for s in samples if s.name != "/sign-in/ (post)"]
    lines = [
        "## load",
        "",
        f"`scripts/with-postgres.sh .venv/bin/python bench/load.py --contracts {args.contracts}`"
        f" — {date.today():%-d %B %Y}, {machine()}. PostgreSQL (with-postgres.sh), the demo"
        f" programme world plus {args.contracts:,} contracts (COPY {load_seconds:.0f} s; snapshot"
        f" {snapshot_id} in {refresh_seconds:.0f} s); gunicorn {args.workers} workers × 4"
        f" threads as `mutualise serve`; locust headless, {args.users} users arriving over 20 s"
        f" for {args.seconds} s — public 60%, applicants 30% (sign in, journey, fund pages, save"
        " a page of their draft application), officers 10% (pipeline, a group, a round's"
        " applications, the radar, the dashboard) — all on the same 2 cores as the server.",
        f"Throughput {len(samples) / args.seconds:.1f} requests/s. Bar: zero errors; compare"
        " p95 with the `## web` section (target there: p95 < 150 ms).",
        "",
        *request_table(
            samples, {"every request": samples, "page views and saves (no sign-in POST)": pages}
        ),
        "",
        *(error_lines(samples) or ["No errors."]),
    ]
    report = "\n".join(lines)
    print(report)
    if args.write_results:
        write_section("load", report)


if __name__ == "__main__":
    main()
