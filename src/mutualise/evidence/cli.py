"""`mutualise evidence refresh` and `mutualise report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    evidence_app = typer.Typer(
        help="The public evidence: data snapshots and reports.", no_args_is_help=True
    )
    app.add_typer(evidence_app, name="evidence")

    @evidence_app.command("refresh")
    def refresh() -> None:
        """Take a data snapshot of every published figure (run after each data load)."""
        from mutualise.cli import console, django_setup, fail

        django_setup()
        from mutualise.evidence.services import refresh_snapshot

        try:
            snapshot = refresh_snapshot()
        except Exception as exc:
            raise fail(f"the snapshot could not be taken: {exc}") from exc
        console.print(
            f"Data snapshot {snapshot.snapshot_id} (as on {snapshot.as_of}): "
            + ", ".join(f"{k} {v}" for k, v in sorted(snapshot.row_counts.items()))
        )

    @app.command("report")
    def report(
        period: Annotated[str, typer.Option(help="The year the report covers, e.g. 2025")],
        out: Annotated[Path, typer.Option(help="Folder for report.html and report.pdf")],
        snapshot: Annotated[str, typer.Option(help="Snapshot id (default: the current one)")] = "",
    ) -> None:
        """Write the "state of the programme" report (HTML and PDF) from a data snapshot."""
        from mutualise.cli import console, django_setup, fail

        django_setup()
        from mutualise.evidence.report import ReportError, write_report

        try:
            files = write_report(period, out, snapshot or None)
        except ReportError as exc:
            raise fail(str(exc), 2) from exc
        console.print(f"Wrote {files.html} and {files.pdf} from data snapshot {files.snapshot_id}")
