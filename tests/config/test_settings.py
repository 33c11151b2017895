"""Production settings pass Django's deployment checks; bad environments fail clearly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from mutualise.config.env import ConfigurationError, read_environment


def _run_check(tmp_path, **extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MUTUALISE_MODE": "production",
        "MUTUALISE_VAR_DIR": str(tmp_path),
        "MUTUALISE_ALLOWED_HOSTS": "mutualise.example.org",
        "DJANGO_SETTINGS_MODULE": "mutualise.config.settings",
        **extra,
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests; not in production
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by tests/e2e/conftest.py for Playwright
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _run_check(tmp_path, MUTUALISE_SECRET_KEY=secrets.token_urlsafe(60))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = _run_check(tmp_path, MUTUALISE_SECRET_KEY="")
    assert result.returncode != 0
    assert "MUTUALISE_SECRET_KEY must be set in production mode" in result.stderr


def test_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("MUTUALISE_DEBUG", "perhaps")
    with pytest.raises(ConfigurationError, match="MUTUALISE_DEBUG"):
        read_environment()


def test_bad_mode_names_the_choices(monkeypatch):
    monkeypatch.setenv("MUTUALISE_MODE", "staging")
    with pytest.raises(ConfigurationError, match="demo, production or test"):
        read_environment()
