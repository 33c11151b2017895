from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from mutualise.synth.cli import register


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Root of a test CLI."""

    register(app)
    return app


def test_synth_writes_a_world(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        make_app(),
        [
            "synth",
            "--releases",
            "300",
            "--seed",
            "2",
            "--out",
            str(tmp_path / "w"),
            "--register-rows",
            "200",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Releases" in result.output
    assert (tmp_path / "w" / "world.json").exists()
    assert (tmp_path / "w" / "programme.json").exists()


def test_bad_input_gives_one_line_error(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (
        ["--releases", "0", "--seed", "1"],
        ["--releases", "10", "--seed", "-1"],
        ["--releases", "10", "--seed", "1", "--programme-size", "huge"],
        ["--releases", "10", "--seed", "1", "--register-rows", "-5"],
    ):
        result = runner.invoke(make_app(), ["synth", *args, "--out", str(tmp_path / "x")])
        assert result.exit_code != 0
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Error" in result.output
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    result = runner.invoke(
        make_app(), ["synth", "--releases", "5", "--seed", "1", "--out", str(not_a_folder)]
    )
    assert result.exit_code != 0 and "not a folder" in result.output
