"""`mutualise serve`: the server command, and the task worker beside it in demo mode."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import mutualise.cli as cli


@pytest.fixture
def started(monkeypatch):
    """Record what serve would start instead of starting it."""
    calls: dict[str, list] = {"worker": [], "server": []}
    monkeypatch.setattr(cli.subprocess, "Popen", lambda command: calls["worker"].append(command))
    monkeypatch.setattr(cli.os, "execv", lambda path, args: calls["server"].append(args))
    return calls


@pytest.mark.parametrize(
    ("mode", "options", "worker"),
    [
        ("demo", [], True),
        ("demo", ["--no-tasks"], False),
        ("production", [], False),
        ("production", ["--tasks"], True),
    ],
)
def test_serve_runs_the_task_worker_in_demo_mode_unless_told(
    started, settings, mode, options, worker
):
    settings.MUTUALISE_MODE = mode
    result = CliRunner().invoke(cli.app, ["serve", "--port", "8123", *options])
    assert result.exit_code == 0, result.output
    [server] = started["server"]
    assert "gunicorn" in server and "127.0.0.1:8123" in server
    if worker:
        [command] = started["worker"]
        assert command[-4:] == ["manage", "db_worker", "--interval", "2"]
        assert "Task worker started" in result.output
    else:
        assert started["worker"] == []
