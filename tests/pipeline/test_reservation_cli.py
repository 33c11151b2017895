"""`mutualise reservation check` prints the verdict and exits 0, 1 or 2."""

from typer.testing import CliRunner

from mutualise.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["reservation", "check", *args])


def test_eligible_exits_0():
    result = run(
        "--cpv",
        "85323000-9",
        "--max-term-months",
        "36",
        "--award-date",
        "2025-02-23",
        "--procedure",
        "open",
    )
    assert result.exit_code == 0, result.output
    assert "ELIGIBLE" in result.output and "regulation 77" in result.output


def test_not_eligible_exits_1_and_names_each_failure():
    result = run(
        "--cpv",
        "85323001",
        "--cpv",
        "85311000",
        "--max-term-months",
        "37",
        "--award-date",
        "2025-02-23",
    )
    assert result.exit_code == 1
    assert (
        "NOT ELIGIBLE" in result.output
        and "85323001" in result.output
        and "37 months" in result.output
    )


def test_s33_without_cpv_list_exits_1():
    result = run(
        "--cpv",
        "85323000",
        "--max-term-months",
        "60",
        "--award-date",
        "2025-02-24",
        "--procedure",
        "competitive flexible",
    )
    assert result.exit_code == 1 and "not loaded" in result.output


def test_bad_input_exits_2():
    assert (
        run("--cpv", "853", "--max-term-months", "36", "--award-date", "2025-02-23").exit_code == 2
    )
    assert (
        run("--cpv", "85323000", "--max-term-months", "36", "--award-date", "23/02/25").exit_code
        == 2
    )
