"""Load the programme part of a synthetic world into the app database, then each app's demo data.

The world comes from ``mutualise.synth.programme`` so the same organisations appear in the
registers and in the OCDS the pipeline reads. Loading is idempotent: organisations are found by
their programme reference and users by username, so running it twice changes nothing.
"""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from mutualise.core import audit
from mutualise.core.models import RoleAssignment, User
from mutualise.core.roles import Role
from mutualise.journeys.models import Journey
from mutualise.journeys.services import EVIDENCE_FIELDS
from mutualise.organisations.models import Identifier, Organisation, OrganisationKind

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo on purpose
APPS_WITH_DEMO_DATA = ("journeys", "fund", "ambassadors", "watch", "evidence")
LIVE_STAGES = {"LIVE", "GROW_AND_DIVERSIFY", "RETENDER", "OUTCOME"}
ORGANISATION_FACTS = (
    "sector",
    "region",
    "legal_form",
    "staff_count",
    "annual_income_pence",
    "staff_board_seats",
    "board_seats",
    "left_public_sector",
    "delivers_public_services",
    "has_social_mission",
    "delivers_in_england",
    "description",
    "services_delivered",
)


def seed_world(programme: dict[str, Any], seed: int) -> dict[str, int]:
    """Create everything in ``programme`` and every app's demo data. Returns counts."""
    with transaction.atomic():
        bodies = {item["key"]: _public_body(item) for item in programme["public_bodies"]}
        groups = {item["key"]: _group(item, bodies) for item in programme["organisations"]}
        password = make_password(DEMO_PASSWORD)
        people = 0
        for item in programme["officers"]:
            _person(item["key"], item["full_name"], item["email"], password, Role.PROGRAMME_OFFICER)
            people += 1
        for item in programme["assessors"]:
            _person(item["key"], item["full_name"], item["email"], password, Role.ASSESSOR)
            people += 1
        for item in programme["ambassadors"]:
            _person(item["key"], item["full_name"], item["email"], password, Role.AMBASSADOR)
            people += 1
        for key, organisation in groups.items():
            _person(
                f"{key}-member",
                f"Member of {organisation.name}",
                f"{key}-member@example.org",
                password,
                Role.STAFF_GROUP_MEMBER,
                organisation,
            )
            people += 1
            if organisation.kind == OrganisationKind.MUTUAL:
                _person(
                    f"{key}-leader",
                    f"Leader of {organisation.name}",
                    f"{key}-leader@example.org",
                    password,
                    Role.MUTUAL_LEADER,
                    organisation,
                )
                people += 1
        _person("admin", "Service administrator", "admin@example.org", password, Role.ADMINISTRATOR)
    for app in APPS_WITH_DEMO_DATA:
        module = _demo_module(app)
        if module is not None:
            module.seed_demo(programme, seed)
    return {"public_bodies": len(bodies), "groups": len(groups), "people": people + 1}


def _demo_module(app: str) -> Any:
    try:
        return importlib.import_module(f"mutualise.{app}.demo")
    except ModuleNotFoundError as exc:
        if exc.name == f"mutualise.{app}.demo":
            return None
        raise


def _identifiers(organisation: Organisation, items: list[dict[str, str]]) -> None:
    for item in items:
        Identifier.objects.get_or_create(
            scheme=item["scheme"], value=item["id"], defaults={"organisation": organisation}
        )


def _public_body(item: dict[str, Any]) -> Organisation:
    organisation, created = Organisation.objects.get_or_create(
        reference=item["key"],
        defaults={
            "name": item["name"],
            "kind": OrganisationKind.PUBLIC_BODY,
            "legal_form": "public_body",
            "public_body_type": item["public_body_type"],
            "region": item["region"],
        },
    )
    if created:
        _identifiers(organisation, item.get("identifiers", []))
        audit.record(
            actor=None,
            action="organisation.created",
            obj=organisation,
            organisation=organisation,
            after={"name": organisation.name, "source": "demo"},
        )
    return organisation


def _group(item: dict[str, Any], bodies: dict[str, Organisation]) -> Organisation:
    organisation = Organisation.objects.filter(reference=item["key"]).first()
    if organisation is not None:
        return organisation
    organisation = Organisation(
        reference=item["key"],
        name=item["name"],
        kind=OrganisationKind.MUTUAL if item["kind"] == "mutual" else OrganisationKind.STAFF_GROUP,
        parent_body=bodies[item["parent_body"]],
        spun_out_on=_date(item.get("spun_out_on")),
        staff_vote_share_percent=_decimal(item.get("staff_vote_share_percent")),
        employee_trust_stake_percent=_decimal(item.get("employee_trust_stake_percent")),
    )
    for field in ORGANISATION_FACTS:
        if item.get(field) is not None:
            setattr(organisation, field, item[field])
    organisation.full_clean()
    organisation.save()
    _identifiers(organisation, item.get("identifiers", []))
    evidence = item.get("journey", {})
    values: dict[str, Any] = {
        field: _date(value) if field.endswith(("_on", "_date", "_start")) else value
        for field, value in evidence.items()
        if (field in EVIDENCE_FIELDS or field in {"started_on", "go_live_date"})
        and value is not None
    }
    values["needs_ambassador"] = item["stage"] not in {"OUTCOME", "WITHDRAWN"}
    # The world arrives at its stages as history, not as moves made today, so the stage is
    # given at creation (the protected FSM field allows that) rather than moved to.
    Journey.objects.create(
        organisation=organisation,
        stage=item["stage"],
        stage_entered_at=_stage_entered_at(values),
        **values,
    )
    audit.record(
        actor=None,
        action="organisation.created",
        obj=organisation,
        organisation=organisation,
        after={"name": organisation.name, "stage": item["stage"], "source": "demo"},
    )
    return organisation


def _stage_entered_at(values: dict[str, Any]) -> Any:
    """The latest dated piece of evidence: the world's history, not the day it was loaded."""
    from datetime import datetime, time

    dates = [v for v in values.values() if isinstance(v, date)]
    if not dates:
        return timezone.now()
    latest = min(max(dates), timezone.localdate())
    return timezone.make_aware(datetime.combine(latest, time(9, 0)))


def _person(
    username: str,
    full_name: str,
    email: str,
    password: str,
    role: Role,
    organisation: Organisation | None = None,
) -> User:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={"full_name": full_name, "email": email, "password": password},
    )
    RoleAssignment.objects.get_or_create(user=user, role=role.value, organisation=organisation)
    return user


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def run_demo(*, seed: int, releases: int, console: Any) -> None:
    """Everything `make demo` needs; each step is idempotent, so a second run is quick."""
    from django.conf import settings
    from django.core.management import call_command

    from mutualise.synth.programme import generate_programme

    world_dir = settings.MUTUALISE_VAR_DIR / "world"
    programme: dict[str, Any]  # assigned below, before the steps (and their lambdas) run
    steps = [
        ("Preparing the database", lambda: call_command("migrate", "--no-input", "-v", "0")),
        ("Loading the programme world", lambda: seed_world(programme, seed)),
        (
            f"Generating the synthetic procurement world in {world_dir}",
            lambda: _generate_world(world_dir, seed, releases),
        ),
        (
            "Ingesting, compiling and flattening OCDS (the world and the real samples)",
            lambda: _ingest_world(world_dir),
        ),
        (
            "Loading the registers (Companies House, FCA, charities)",
            lambda: _load_registers(world_dir),
        ),
        ("Resolving suppliers to organisations", _resolve_suppliers),
        ("Linking contracts to their re-tenders and recording outcomes", _chains_and_outcomes),
        ("Loading contracts, suppliers and outcomes into the app", _load_results),
        ("Refreshing the public evidence", _refresh_evidence),
    ]
    programme = generate_programme(seed, "small")
    counts: dict[str, int] = {}
    for number, (title, step) in enumerate(steps, start=1):
        console.print(f"[bold]{number}/{len(steps)}[/bold] {title}")
        result = step()
        if isinstance(result, dict) and "groups" in result:
            counts = result
        elif result:
            console.print(f"    {result}")
    _print_sign_ins(programme, counts, console)


def _generate_world(world_dir: Any, seed: int, releases: int) -> str:
    import json

    from mutualise.synth.world import generate_world

    summary_file = world_dir / "world.json"
    if summary_file.exists():
        summary = json.loads(summary_file.read_text())
        if summary.get("seed") == seed and summary.get("requested_releases") == releases:
            return "already generated"
    generate_world(world_dir, releases=releases, seed=seed)
    return ""


def _ingest_world(world_dir: Any) -> Any:
    from mutualise.pipeline.run import run_pipeline

    paths = [world_dir / "ocds"]
    samples = _shared_samples()
    if samples is not None:
        paths.append(samples)
    summary = run_pipeline(paths)
    return _brief(summary)


def _brief(summary: Any) -> str:
    """One line from a summary dataclass: its counts, not its repr."""
    from dataclasses import asdict, is_dataclass

    if not is_dataclass(summary) or isinstance(summary, type):
        return str(summary)
    parts = [
        f"{key.replace('_', ' ')} {value:,}"
        for key, value in asdict(summary).items()
        if isinstance(value, int) and not isinstance(value, bool)
    ]
    return ", ".join(parts)


def _shared_samples() -> Any:
    from mutualise.config.env import PROJECT_ROOT

    candidate = PROJECT_ROOT.parent / "shared" / "data" / "ocds" / "uk"
    return candidate if candidate.exists() else None


def _load_registers(world_dir: Any) -> str:
    from mutualise.pipeline.registers.loaders import load_register

    registers = world_dir / "registers"
    loaded = []
    for register, folder, pattern in (
        ("companies-house", "companies-house", "*.csv"),
        ("fca", "fca", "*.csv"),
        ("charities", "charities", "*.json"),
    ):
        files = sorted((registers / folder).glob(pattern))
        if files:
            summary = load_register(register, files)
            loaded.append(f"{register} {summary.rows_loaded:,} rows")
    return "; ".join(loaded)


def _resolve_suppliers() -> Any:
    from mutualise.pipeline.resolve import resolve
    from mutualise.suppliers.services import export_programme_register

    export_programme_register()
    summary = resolve()
    return f"{summary.mentions:,} supplier mentions: {summary.matched_by}"


def _chains_and_outcomes() -> str:
    from mutualise.pipeline.chains import run_chains
    from mutualise.pipeline.outcomes import run_outcomes

    chains = run_chains()
    outcomes = run_outcomes()
    return f"{chains.links:,} re-tender links; outcomes {outcomes.outcomes}"


def _load_results() -> str:
    from mutualise.suppliers.services import load_supplier_links
    from mutualise.watch.services import load_from_warehouse

    contracts = load_from_warehouse()
    suppliers = load_supplier_links()
    return (
        f"{contracts.created + contracts.updated + contracts.unchanged:,} contracts; "
        f"{suppliers['organisations']:,} supplier organisations"
    )


def _refresh_evidence() -> str:
    from mutualise.evidence.services import refresh_snapshot

    snapshot = refresh_snapshot()
    return f"snapshot {snapshot}"


def _print_sign_ins(programme: dict[str, Any], counts: dict[str, int], console: Any) -> None:
    from rich.table import Table

    table = Table(title=f"Demo sign-ins (password for all: {DEMO_PASSWORD})")
    table.add_column("role")
    table.add_column("username")
    table.add_column("who")
    table.add_row(
        "Programme officer", programme["officers"][0]["key"], programme["officers"][0]["full_name"]
    )
    table.add_row("Administrator", "admin", "Service administrator")
    table.add_row(
        "Assessor", programme["assessors"][0]["key"], programme["assessors"][0]["full_name"]
    )
    table.add_row(
        "Ambassador", programme["ambassadors"][0]["key"], programme["ambassadors"][0]["full_name"]
    )
    group = next(o for o in programme["organisations"] if o["kind"] == "staff_group")
    table.add_row("Staff group member", f"{group['key']}-member", group["name"])
    mutual = next(o for o in programme["organisations"] if o["kind"] == "mutual")
    table.add_row("Mutual leader", f"{mutual['key']}-leader", mutual["name"])
    console.print(table)
    if counts:
        console.print(
            f"Loaded {counts['groups']} groups and {counts['public_bodies']} public bodies."
        )
    console.print("Open http://127.0.0.1:8000 and sign in with one of the accounts above.")
