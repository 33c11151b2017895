"""The `synth` command: generate a synthetic world. The root CLI calls `register(app)`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table


def register(app: typer.Typer) -> None:
    """Add the `synth` command to a Typer app."""

    @app.command("synth")
    def synth(
        releases: Annotated[
            int, typer.Option("--releases", help="How many OCDS releases (at least).")
        ],
        seed: Annotated[
            int, typer.Option("--seed", help="Seed; the same seed gives the same files.")
        ],
        out: Annotated[Path, typer.Option("--out", help="Folder to write the world into.")],
        programme_size: Annotated[
            str, typer.Option("--programme-size", help="small (60 groups) or large (600 groups).")
        ] = "small",
        register_rows: Annotated[
            int | None,
            typer.Option(
                "--register-rows",
                help="Rows in the Companies House file (default 20 x the supplier organisations).",
            ),
        ] = None,
    ) -> None:
        """Generate a synthetic world: programme, registers, OCDS releases and ground truth."""
        console = Console(stderr=True)
        problem = _check(releases, seed, programme_size, register_rows, out)
        if problem:
            console.print(f"[red]Error:[/red] {problem}")
            raise typer.Exit(code=2)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,}"),
            TimeElapsedColumn(),
        )
        tasks: dict[str, TaskID] = {}
        try:
            with Progress(*columns, console=console, transient=False) as progress:

                def report(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = progress.add_task(stage.capitalize(), total=total)
                    progress.update(tasks[stage], completed=done, total=total)

                from mutualise.synth.world import generate_world

                summary = generate_world(
                    out,
                    releases,
                    seed,
                    programme_size,
                    register_rows=register_rows,
                    progress=report,
                )
        except (OSError, ValueError) as error:
            console.print(f"[red]Error:[/red] {error}")
            raise typer.Exit(code=1) from None
        table = Table(title=f"Synthetic world in {out}")
        table.add_column("What")
        table.add_column("Count", justify="right")
        table.add_row("Releases", f"{summary.releases:,}")
        for tag, count in summary.releases_by_tag.items():
            table.add_row(f"  tagged {tag}", f"{count:,}")
        for name, count in summary.counts.items():
            table.add_row(name.replace("_", " ").capitalize(), f"{count:,}")
        for name, count in summary.truth_rows.items():
            table.add_row(f"Truth: {name}", f"{count:,}")
        rate = summary.releases / summary.seconds if summary.seconds else 0.0
        table.add_row("Seconds", f"{summary.seconds:.1f} ({rate:,.0f} releases/s)")
        Console().print(table)


def _check(
    releases: int, seed: int, programme_size: str, register_rows: int | None, out: Path
) -> str:
    # Imported here so `mutualise --help` does not load numpy and pyarrow.
    from mutualise.synth.registers import MAX_REGISTER_ROWS
    from mutualise.synth.world import MAX_RELEASES

    if releases < 1 or releases > MAX_RELEASES:
        return f"--releases must be from 1 to {MAX_RELEASES:,}, not {releases}"
    if seed < 0:
        return f"--seed must be 0 or more, not {seed}"
    if programme_size not in ("small", "large"):
        return f"--programme-size must be small or large, not {programme_size!r}"
    if register_rows is not None and not 0 <= register_rows <= MAX_REGISTER_ROWS:
        return f"--register-rows must be from 0 to {MAX_REGISTER_ROWS:,}, not {register_rows}"
    if out.exists() and not out.is_dir():
        return f"--out {out} exists and is not a folder"
    return ""
