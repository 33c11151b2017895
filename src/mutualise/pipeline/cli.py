"""Pipeline commands for the `mutualise` CLI: ingest, sql, validate, export compiled-releases.

The root CLI calls `register(app)`; `export_app` is the `export` sub-app others add commands to.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

export_app = typer.Typer(name="export", help="Export warehouse data.", no_args_is_help=True)

console = Console()
errors = Console(stderr=True)

WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="Warehouse directory (default $MUTUALISE_WAREHOUSE_DIR or var/warehouse).",
    ),
]


def _fail(message: str) -> None:
    """Stop with a one-line reason and a non-zero exit code (never a traceback)."""
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code=1)


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="OCDS files or directories.")],
    warehouse: WarehouseOption = None,
    engine: Annotated[
        str, typer.Option(help="Engine for the transforms: duckdb or spark.")
    ] = "duckdb",
    source: Annotated[
        str | None, typer.Option(help="Source label stored with every release.")
    ] = None,
    ingest_only: Annotated[
        bool, typer.Option("--ingest-only", help="Skip compile and flatten.")
    ] = False,
) -> None:
    """Ingest OCDS data, then compile releases and rebuild the analytics tables."""
    from mutualise.pipeline.compile import compile_releases
    from mutualise.pipeline.engines import ENGINES
    from mutualise.pipeline.flatten import flatten
    from mutualise.pipeline.ingest import IngestError, IngestSummary, ingest
    from mutualise.pipeline.warehouse import WarehouseBusy

    if engine not in ENGINES:
        _fail(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    started = time.monotonic()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("ingest", total=None, detail="")

        def report(summary: IngestSummary) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(
                task,
                total=summary.files_total or None,
                completed=summary.files_read + summary.files_skipped,
                detail=f"{summary.releases_read:,} releases · {summary.releases_read / elapsed:,.0f}/s · "
                f"{summary.quarantined:,} quarantined",
            )

        try:
            summary = ingest(paths, warehouse, source=source, progress=report)
            report(summary)
            compiled = flattened = None
            if not ingest_only:
                bar.update(task, description="compile")
                compiled = compile_releases(warehouse)
                bar.update(task, description=f"flatten ({engine})")
                flattened = flatten(warehouse, engine=engine)
                bar.update(task, description="done")
        except (IngestError, WarehouseBusy) as error:
            bar.stop()
            _fail(str(error))
            return
    _print_summary(summary, compiled, flattened)
    for problem in summary.file_problems:  # each is quarantined too; the rest was ingested
        errors.print(f"[red]error:[/red] {problem}", highlight=False, soft_wrap=True)
    if summary.file_problems:
        raise typer.Exit(code=1)


def _print_summary(summary: object, compiled: object | None, flattened: object | None) -> None:
    table = Table(title="Pipeline summary")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in (
        "files_read",
        "files_skipped",
        "releases_read",
        "releases_new",
        "duplicates",
        "quarantined",
    ):
        table.add_row(name.replace("_", " "), f"{getattr(summary, name):,}")
    table.add_row("ingest seconds", f"{getattr(summary, 'seconds', 0):.1f}")
    for reason, count in sorted(getattr(summary, "reasons", {}).items()):
        table.add_row(f"  quarantined: {reason}", f"{count:,}")
    if compiled is not None:
        table.add_row("compiled releases", f"{getattr(compiled, 'compiled', 0):,}")
        table.add_row("compile seconds", f"{getattr(compiled, 'seconds', 0):.1f}")
    if flattened is not None:
        for name, rows in getattr(flattened, "rows", {}).items():
            table.add_row(f"table {name}", f"{rows:,}")
        table.add_row("flatten seconds", f"{getattr(flattened, 'seconds', 0):.1f}")
    console.print(table)


def sql_command(
    query: Annotated[
        str, typer.Argument(help="SQL over the warehouse tables (each table is a view).")
    ],
    warehouse: WarehouseOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown in the table view.")] = 100,
) -> None:
    """Run a SQL query against the warehouse."""
    import duckdb

    from mutualise.core.csvsafe import safe_row
    from mutualise.pipeline.sql import sql

    try:
        result = sql(query, warehouse)
    except duckdb.Error as error:
        _fail(str(error).splitlines()[0])
        return
    rows = result.to_pylist()
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.column_names)
        for row in rows:
            writer.writerow(safe_row(row[name] for name in result.column_names))
        return
    table = Table(show_lines=False)
    for name in result.column_names:
        table.add_column(name)
    for row in rows[:limit]:
        table.add_row(
            *["" if row[name] is None else str(row[name]) for name in result.column_names]
        )
    console.print(table)
    if len(rows) > limit:
        console.print(f"{len(rows) - limit:,} more rows (use --csv for all)")


def validate_command(
    path: Annotated[Path, typer.Argument(help="An OCDS file or directory.")],
) -> None:
    """Check OCDS data with libcoveocds against OCDS 1.1.5 and the UK extension (offline)."""
    from mutualise.pipeline.validate import validate

    if not path.exists():
        _fail(f"no such file or directory: {path}")
    report = validate(path)
    table = Table(title=f"{report.valid_releases:,} of {report.releases:,} releases valid")
    table.add_column("path")
    table.add_column("check")
    table.add_column("releases", justify="right")
    table.add_column("example")
    for (where, check), count in report.errors.most_common():
        table.add_row(where, check, f"{count:,}", (report.examples[(where, check)] or [""])[0])
    console.print(table)
    if report.package_errors:
        packages = Table(title="package metadata errors")
        packages.add_column("path")
        packages.add_column("check")
        packages.add_column("packages", justify="right")
        packages.add_column("example")
        for (where, check), count in report.package_errors.most_common():
            example = (report.examples[(where, check)] or [""])[0]
            packages.add_row(where, check, f"{count:,}", example)
        console.print(packages)
    if report.warnings:
        notes = Table(title="additional checks (warnings, not errors)")
        notes.add_column("check")
        notes.add_column("found", justify="right")
        for check, count in report.warnings.most_common():
            notes.add_row(check, f"{count:,}")
        console.print(notes)
    if report.unreadable:
        console.print(f"{report.unreadable:,} values could not be read as JSON")
    if not report.ok:
        raise typer.Exit(code=1)


@export_app.command("compiled-releases")
def export_compiled_releases_command(
    out: Annotated[Path, typer.Argument(help="Output JSON Lines file.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Write every compiled release as OCDS JSON, one per line."""
    from mutualise.pipeline.export import export_compiled_releases

    try:
        count = export_compiled_releases(out, warehouse)
    except FileNotFoundError as error:
        _fail(str(error))
        return
    console.print(f"wrote {count:,} compiled releases to {out}")


def register(app: typer.Typer) -> None:
    """Add the pipeline commands to the root `mutualise` app."""
    app.command("ingest")(ingest_command)
    app.command("sql")(sql_command)
    app.command("validate")(validate_command)
    app.add_typer(export_app, name="export")
