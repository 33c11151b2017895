"""Migrations run forward on a copy of a populated database.

A new, empty database (a new SQLite file, or a new PostgreSQL database on the test server, so the
shared test schema is never touched) is migrated to the earliest state of every app: each app's
first migration and whatever it depends on. Every model of every app that has later migrations
(and every model those rows point at) gets a representative row through the *historical* models
of that state; then the database is migrated forward to the latest state. The rows must come
through intact (every column that still exists holds the value written), every foreign key must
hold, and each row must read back and validate through today's models. The work runs in a
subprocess (tests/ops/migrations_forward_check.py) where the new database is the default one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_database_url(tmp_path: Path, django_db_setup: None, django_db_blocker: Any) -> Any:
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"mutualise_migrations_{uuid.uuid4().hex[:12]}"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(os.environ["DATABASE_URL"])
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_run_forward_on_a_populated_database(
    scratch_database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUTUALISE_", "DJANGO_"))}
    env.update(
        DATABASE_URL=scratch_database_url,
        MUTUALISE_MODE="test",
        MUTUALISE_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="mutualise.config.settings",
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.ops.migrations_forward_check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert "rows of" in result.stdout
