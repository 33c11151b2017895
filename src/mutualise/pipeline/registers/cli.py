"""`mutualise registers load …`, `mutualise resolve` and `mutualise export suppliers OUT.csv`.

The root CLI calls `register(app)`. Failures end with one line on stderr and a non-zero exit
(2 for bad input such as a wrong register header, 1 for a failed run), never a traceback.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

console = Console()
errors = Console(stderr=True)

registers_app = typer.Typer(
    name="registers",
    help="Organisation registers (Companies House, FCA, charities).",
    no_args_is_help=True,
)
load_app = typer.Typer(
    name="load", help="Load a bulk register file into the warehouse.", no_args_is_help=True
)
registers_app.add_typer(load_app, name="load")

WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="Warehouse directory (default $MUTUALISE_WAREHOUSE_DIR or var/warehouse).",
    ),
]
PathsArgument = Annotated[
    list[Path], typer.Argument(help="Register file(s) or folder(s): all parts of one snapshot.")
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Reload even if these exact files were loaded.")
]

EXPORT_COLUMNS = (
    "ocid",
    "award_id",
    "supplier_name",
    "supplier_identifier",
    "organisation_identifier",
    "organisation_name",
    "supplier_class",
    "match_probability",
    "matched_by",
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _load(register: str, paths: list[Path], warehouse: Path | None, force: bool) -> None:
    from mutualise.pipeline.registers.formats import RegisterFormatError
    from mutualise.pipeline.registers.loaders import RegisterLoadError, load_register

    with _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{register}: {stage}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            summary = load_register(register, paths, warehouse, force=force, progress=report)
        except RegisterFormatError as exc:
            bar.stop()
            raise _fail(str(exc), 2) from None
        except (RegisterLoadError, OSError) as exc:
            bar.stop()
            raise _fail(str(exc), 1) from None
    if summary.already_loaded:
        console.print(
            f"{register}: these files are already loaded ({summary.rows_loaded:,} organisations); "
            "nothing to do (use --force to reload)."
        )
        return
    table = Table(title=f"{register} loaded in {summary.seconds:,.1f} s")
    table.add_column("what")
    table.add_column("rows", justify="right")
    table.add_row("read", f"{summary.rows_read:,}")
    table.add_row("loaded", f"{summary.rows_loaded:,}")
    table.add_row("quarantined", f"{summary.rows_quarantined:,}")
    for reason, count in summary.reasons.items():
        table.add_row(f"  {reason}", f"{count:,}")
    console.print(table)


@load_app.command("companies-house")
def load_companies_house(
    paths: PathsArgument, warehouse: WarehouseOption = None, force: ForceOption = False
) -> None:
    """Companies House Free Company Data Product CSV (all parts of one month)."""
    _load("companies-house", paths, warehouse, force)


@load_app.command("fca")
def load_fca(
    paths: PathsArgument, warehouse: WarehouseOption = None, force: ForceOption = False
) -> None:
    """FCA Mutuals Public Register export (SocietyList.csv)."""
    _load("fca", paths, warehouse, force)


@load_app.command("charities")
def load_charities(
    paths: PathsArgument, warehouse: WarehouseOption = None, force: ForceOption = False
) -> None:
    """Charity Commission register extract (publicextract.charity.json)."""
    _load("charities", paths, warehouse, force)


@registers_app.command("status")
def registers_status(warehouse: WarehouseOption = None) -> None:
    """What is loaded."""
    from mutualise.pipeline.registers.loaders import loaded_registers

    loaded = loaded_registers(warehouse)
    if not loaded:
        console.print("No registers loaded yet.")
        return
    table = Table(title="Registers")
    for column in ("register", "organisations", "quarantined", "loaded at", "files"):
        table.add_column(column)
    for register, item in loaded.items():
        files = ", ".join(f["name"] for f in item.get("files", [])) or item.get("file", "")
        table.add_row(
            register,
            f"{item.get('rows_loaded', '')}",
            f"{item.get('rows_quarantined', '')}",
            item.get("loaded_at", ""),
            files,
        )
    console.print(table)


def _export_programme(warehouse: Path | None, skip: bool) -> None:
    """The programme's organisations → registers/programme.parquet (through Django)."""
    if skip:
        return
    from mutualise.cli import django_setup

    django_setup()
    from mutualise.suppliers.services import export_programme_register

    path, count = export_programme_register(warehouse)
    console.print(f"Programme register: {count:,} organisations written to {path}.")


def resolve_command(
    engine: Annotated[str, typer.Option(help="duckdb (default) or spark")] = "duckdb",
    warehouse: WarehouseOption = None,
    without_programme: Annotated[
        bool,
        typer.Option(
            "--without-programme",
            help="Do not export the programme's organisations from the database first.",
        ),
    ] = False,
) -> None:
    """Link every award supplier to an organisation and classify it."""
    from mutualise.pipeline.resolve import ENGINES, ResolveError, resolve

    if engine not in ENGINES:
        raise _fail(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}", 2)
    _export_programme(warehouse, without_programme)
    with _progress() as bar:
        task = bar.add_task("resolve", total=6)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"resolve: {stage}")

        try:
            summary = resolve(warehouse, engine, progress=report)
        except ResolveError as exc:
            bar.stop()
            raise _fail(str(exc), 1) from None
    table = Table(
        title=f"{summary.mentions:,} supplier mentions resolved in {summary.seconds:,.1f} s ({engine})"
    )
    table.add_column("what")
    table.add_column("mentions", justify="right")
    for matched_by, count in summary.matched_by.items():
        table.add_row(f"matched by {matched_by}", f"{count:,}")
    for supplier_class, count in summary.classes.items():
        table.add_row(supplier_class, f"{count:,}")
    table.add_row("organisations", f"{summary.organisations:,}")
    table.add_row("waiting for review (names)", f"{summary.review_queue:,}")
    table.add_row("details.scale disagreeing with our class", f"{summary.scale_disagreements:,}")
    console.print(table)
    console.print(
        f"Thresholds: accept ≥ {summary.thresholds['accept']}, review ≥ {summary.thresholds['review']} "
        f"(rules {summary.rules_version})."
    )


def export_suppliers_command(
    out: Annotated[Path, typer.Argument(help="CSV file to write ('-' for standard output).")],
    warehouse: WarehouseOption = None,
) -> None:
    """One row per award supplier mention: who won, resolved and classified."""
    from mutualise.core.csvsafe import safe_row
    from mutualise.pipeline.resolve import ResolveError, read_table

    try:
        links = read_table("supplier_links", warehouse)
    except ResolveError as exc:
        raise _fail(str(exc), 1) from None
    columns = {name: links.column(name).to_pylist() for name in EXPORT_COLUMNS}
    handle = sys.stdout if str(out) == "-" else out.open("w", encoding="utf-8", newline="")
    try:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for index in range(links.num_rows):
            row = []
            for name in EXPORT_COLUMNS:
                value = columns[name][index]
                if name == "match_probability" and value is not None:
                    value = f"{value:.4f}"
                row.append(value)
            writer.writerow(safe_row(row))
    finally:
        if handle is not sys.stdout:
            handle.close()
    if handle is not sys.stdout:
        console.print(f"Wrote {links.num_rows:,} supplier mentions to {out}.")


def register(app: typer.Typer) -> None:
    app.add_typer(registers_app, name="registers")
    app.command("resolve")(resolve_command)
    try:
        from mutualise.pipeline.cli import export_app
    except ImportError:  # the pipeline CLI is not there: give `export` a home of our own
        export_app = typer.Typer(name="export", help="Export warehouse data.", no_args_is_help=True)
        app.add_typer(export_app, name="export")
    export_app.command("suppliers")(export_suppliers_command)
