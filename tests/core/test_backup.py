"""Backup and restore round-trip exactly, through the command an operator uses."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _database_url(tmp_path: Path) -> str:
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgres"):
        return f"sqlite:///{tmp_path / 'service.sqlite3'}"
    import psycopg

    name = f"backup_{uuid.uuid4().hex[:8]}"
    base = configured.rsplit("/", 1)[0]
    with psycopg.connect(_psycopg_dsn(configured), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def _psycopg_dsn(url: str) -> str:
    import dj_database_url

    settings = dj_database_url.parse(url)
    return (
        f"dbname={settings['NAME']} user={settings['USER']} "
        f"host={settings['HOST']} port={settings['PORT']}"
    )


def _mutualise(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mutualise.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        cwd=PROJECT_ROOT,
        timeout=300,
    )


def _state(env: dict[str, str]) -> str:
    code = (
        "import django, os; django.setup();"
        "from mutualise.core.models import User;"
        "print(sorted(User.objects.values_list('username', flat=True)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    return result.stdout.strip()


def test_backup_then_restore_gives_back_exactly_what_was_saved(tmp_path):
    var = tmp_path / "var"
    env = {
        **os.environ,
        "MUTUALISE_MODE": "demo",
        "MUTUALISE_VAR_DIR": str(var),
        "DATABASE_URL": _database_url(tmp_path),
        "DJANGO_SETTINGS_MODULE": "mutualise.config.settings",
        "MUTUALISE_NEW_PASSWORD": "a long enough passphrase 2026",
    }
    _mutualise(env, "migrate")
    _mutualise(env, "createuser", "officer1", "--role", "programme_officer")
    (var / "uploads" / "applications").mkdir(parents=True)
    (var / "uploads" / "applications" / "plan.pdf").write_bytes(b"%PDF-1.7 business plan")
    (var / "warehouse").mkdir(parents=True, exist_ok=True)
    (var / "warehouse" / "awards.parquet").write_bytes(b"PAR1 not really parquet")
    before = _state(env)

    archive = tmp_path / "backup.tar.gz"
    _mutualise(env, "backup", str(archive))
    _mutualise(env, "createuser", "intruder", "--role", "assessor")
    (var / "uploads" / "applications" / "plan.pdf").unlink()
    (var / "warehouse" / "awards.parquet").write_bytes(b"changed")
    assert _state(env) != before

    _mutualise(env, "restore", str(archive), "--yes")
    assert _state(env) == before
    assert (var / "uploads" / "applications" / "plan.pdf").read_bytes() == b"%PDF-1.7 business plan"
    assert (var / "warehouse" / "awards.parquet").read_bytes() == b"PAR1 not really parquet"


def test_damaged_backup_is_refused_and_nothing_is_restored(tmp_path):
    var = tmp_path / "var"
    env = {
        **os.environ,
        "MUTUALISE_MODE": "demo",
        "MUTUALISE_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "mutualise.config.settings",
    }
    _mutualise(env, "migrate")
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b not a real archive")
    result = _mutualise(env, "restore", str(broken), "--yes", check=False)
    assert result.returncode == 1
    assert "not a readable backup" in result.stderr
    assert "Traceback" not in result.stderr
