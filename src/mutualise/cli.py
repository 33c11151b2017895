"""The `mutualise` command: the programme (Django) and the pipeline (no Django) in one place."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Mutualise: run a public service mutuals programme and watch mutuals' contracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
personal_data_app = typer.Typer(
    help="Subject access and erasure requests, and the retention policy.", no_args_is_help=True
)
app.add_typer(personal_data_app, name="personal-data")
console = Console()
error_console = Console(stderr=True)

# Modules that add their own commands with register(app). Each is optional only while it is
# being written; a module that exists but fails to import is a real error and is not hidden.
COMMAND_MODULES = (
    "mutualise.pipeline.cli",
    "mutualise.pipeline.sources.cli",
    "mutualise.synth.cli",
    "mutualise.pipeline.registers.cli",
    "mutualise.watch.cli",
    "mutualise.evidence.cli",
)


def fail(message: str, code: int = 1) -> typer.Exit:
    error_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualise.config.settings")
    import django

    from mutualise.config.env import ConfigurationError

    try:
        django.setup()
    except ConfigurationError as exc:
        raise fail(str(exc), 2) from exc


def call_django(*args: str) -> None:
    django_setup()
    from django.core.management import call_command

    call_command(*args)


@app.command()
def migrate() -> None:
    """Create or update the database tables."""
    call_django("migrate", "--no-input", "-v", "0")
    console.print("Database is up to date.")


@app.command()
def seed(
    size: Annotated[str, typer.Option(help="small or large")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed of the generated world")] = 2026,
) -> None:
    """Load a generated programme world (public bodies, groups, mutuals, people)."""
    if size not in {"small", "large"}:
        raise fail(f"--size must be small or large, not {size!r}", 2)
    django_setup()
    from mutualise.core.demo import seed_world
    from mutualise.synth.programme import generate_programme

    call_django("migrate", "--no-input", "-v", "0")
    counts = seed_world(generate_programme(seed, size), seed)
    table = Table(title="Programme world loaded")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


@app.command()
def createuser(
    username: str,
    role: Annotated[
        str,
        typer.Option(
            help="staff_group_member, mutual_leader, ambassador, "
            "assessor, programme_officer or administrator"
        ),
    ],
    email: Annotated[str, typer.Option()] = "",
    full_name: Annotated[str, typer.Option("--name")] = "",
    organisation: Annotated[
        str, typer.Option(help="Programme reference of the group (org-001) for members and leaders")
    ] = "",
    password: Annotated[
        str,
        typer.Option(
            envvar="MUTUALISE_NEW_PASSWORD", prompt=True, hide_input=True, confirmation_prompt=True
        ),
    ] = "",
) -> None:
    """Create a user with a role."""
    django_setup()
    from mutualise.core.services import CreateUserError, create_user

    try:
        user = create_user(
            username=username,
            role=role,
            email=email,
            full_name=full_name,
            organisation_reference=organisation,
            password=password,
        )
    except CreateUserError as exc:
        raise fail(str(exc), 2) from exc
    console.print(f"Created {user.username} as {role}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option()] = 2,
    tasks: Annotated[
        bool | None,
        typer.Option(
            "--tasks/--no-tasks",
            help="Also run the task worker that sends queued email (default: on in demo mode)",
        ),
    ] = None,
) -> None:
    """Serve the web application with gunicorn."""
    django_setup()
    from django.conf import settings

    if tasks is None:
        tasks = settings.MUTUALISE_MODE == "demo"
    if tasks:
        _start_task_worker()
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "mutualise.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
        # Longer than any client's or proxy's idle keep-alive (nginx 60 s, ALB 60 s): with
        # gunicorn's 2 s default the server closes a connection just as a client reuses it,
        # and the client sees a connection reset.
        "--keep-alive",
        "75",
    ]
    console.print(f"Serving on http://{host}:{port} (Ctrl+C to stop)")
    os.execv(sys.executable, args)  # noqa: S606 - replace this process with the server


def _start_task_worker() -> None:
    """Run `db_worker` beside the server, so queued email is sent (to the console in the demo).

    It shares the terminal's process group: Ctrl+C stops it with the server. In production run
    it as its own service instead (docs/operations.md).
    """
    command = [sys.executable, "-m", "mutualise.cli", "manage", "db_worker", "--interval", "2"]
    subprocess.Popen(command)  # noqa: S603 - our own interpreter and command
    console.print("Task worker started: queued email is sent while the server runs")


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    seed: Annotated[int, typer.Option()] = 2026,
    releases: Annotated[int, typer.Option(help="Synthetic OCDS releases to generate")] = 20_000,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Set up everything on SQLite + DuckDB with a generated world and serve it."""
    django_setup()
    from mutualise.core.demo import run_demo

    try:
        run_demo(seed=seed, releases=releases, console=console)
    except Exception as exc:
        raise fail(f"the demo could not be set up: {exc}") from exc
    if serve_after:
        serve(host=host, port=port, workers=2)


@app.command()
def backup(out: Path) -> None:
    """Back up the database, uploaded files and the warehouse into one archive."""
    django_setup()
    from mutualise.core.backup import BackupError
    from mutualise.core.backup import backup as make_backup

    try:
        summary = make_backup(out)
    except BackupError as exc:
        raise fail(str(exc)) from exc
    console.print(f"Backed up {summary.files} files ({summary.database_engine}) to {summary.path}")


@app.command()
def restore(
    archive: Path,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before replacing data")] = False,
) -> None:
    """Replace the database, uploaded files and warehouse with a backup's."""
    if not yes and not typer.confirm("This replaces all current data. Continue?"):
        raise typer.Exit(1)
    django_setup()
    from mutualise.core.backup import BackupError
    from mutualise.core.backup import restore as do_restore

    try:
        summary = do_restore(archive)
    except BackupError as exc:
        raise fail(str(exc)) from exc
    console.print(f"Restored {summary.files} files from {summary.path}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exit 1 if any entry was edited or deleted."""
    django_setup()
    from mutualise.core.audit import verify_chain
    from mutualise.core.models import AuditEvent

    problems = verify_chain()
    if problems:
        for problem in problems:
            where = f"entry {problem.event_id}" if problem.event_id else "the chain head"
            error_console.print(f"[red]✗[/red] {where}: {problem.reason}")
        raise typer.Exit(1)
    console.print(f"[green]✓[/green] {AuditEvent.objects.count()} audit entries, chain intact.")


@personal_data_app.command("export")
def personal_data_export(
    user: Annotated[str, typer.Option("--user", help="Username")],
    out: Annotated[Path | None, typer.Option(help="Write JSON here instead of printing")] = None,
) -> None:
    """Everything held about one person, as JSON (subject access request)."""
    import json

    django_setup()
    from mutualise.core import personal_data

    try:
        data = personal_data.export(personal_data.find_user(user))
    except personal_data.PersonalDataError as exc:
        raise fail(str(exc), 2) from exc
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out is None:
        console.print_json(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"Wrote {out}")


@personal_data_app.command("erase")
def personal_data_erase(
    user: Annotated[str, typer.Option("--user", help="Username")],
    yes: Annotated[bool, typer.Option("--yes")] = False,
) -> None:
    """Anonymise one person (erasure request); the audit chain stays valid."""
    django_setup()
    from mutualise.core import personal_data

    try:
        target = personal_data.find_user(user)
        if not yes and not typer.confirm(f"Erase the personal data of {user}?"):
            raise typer.Exit(1)
        personal_data.erase(target)
    except personal_data.PersonalDataError as exc:
        raise fail(str(exc), 2) from exc
    console.print(
        f"Erased the personal data of {user}; the account is now erased-user-{target.pk}."
    )


@personal_data_app.command("purge")
def personal_data_purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; change nothing")
    ] = False,
) -> None:
    """Apply the retention policy (rules/personal_data_retention.yaml): delete or anonymise
    personal data kept longer than its period."""
    django_setup()
    from mutualise.core import personal_data

    summary = personal_data.purge(dry_run=dry_run)
    title = f"Retention policy {summary.policy_version}: " + (
        "what a purge would do (dry run, nothing changed)" if dry_run else "purged"
    )
    table = Table(title=title)
    table.add_column("category")
    table.add_column("older than")
    table.add_column("at the end")
    table.add_column("count", justify="right")
    for result in summary.results:
        table.add_row(
            result.name,
            f"{result.cutoff:%Y-%m-%d %H:%M} UTC",
            result.what,
            str(result.count),
        )
    console.print(table)
    total = sum(result.count for result in summary.results)
    if dry_run:
        console.print(f"Dry run: {total} records would be removed or anonymised.")
    else:
        console.print(
            f"Done: {total} records removed or anonymised (retention run {summary.run_id})."
        )


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command, e.g. `mutualise manage send_followup_reminders`."""
    django_setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["mutualise manage", *ctx.args])


def _register_modules() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        module.register(app)


_register_modules()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
