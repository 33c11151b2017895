"""The pipeline commands, on a local Typer app (the root CLI calls `register`)."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from mutualise.pipeline.cli import register

runner = CliRunner()


def app() -> typer.Typer:
    root = typer.Typer()
    register(root)
    return root


def test_ingest_sql_export_and_validate(small_input: Path, tmp_path: Path) -> None:
    warehouse = str(tmp_path / "wh")
    result = runner.invoke(app(), ["ingest", str(small_input), "--warehouse", warehouse])
    assert result.exit_code == 0, result.output
    assert "quarantined" in result.output and "table processes" in result.output
    result = runner.invoke(
        app(), ["sql", "SELECT count(*) AS n FROM processes", "--warehouse", warehouse, "--csv"]
    )
    assert result.exit_code == 0 and result.output.splitlines() == ["n", "189"]
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app(), ["export", "compiled-releases", str(out), "--warehouse", warehouse]
    )
    assert result.exit_code == 0 and len(out.read_text().splitlines()) == 189
    result = runner.invoke(app(), ["validate", str(small_input)])
    assert "releases valid" in result.output


def test_bad_input_gives_one_line_and_no_traceback(tmp_path: Path) -> None:
    result = runner.invoke(
        app(), ["ingest", str(tmp_path / "missing.json"), "--warehouse", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "no such file or directory" in result.output and "Traceback" not in result.output
    result = runner.invoke(app(), ["sql", "SELECT * FROM nowhere", "--warehouse", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    result = runner.invoke(app(), ["ingest", str(tmp_path), "--engine", "pandas"])
    assert result.exit_code == 1 and "unknown engine" in result.output
