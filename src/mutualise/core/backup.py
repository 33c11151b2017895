"""Back up and restore everything an operator would lose: the database, uploaded files and the
warehouse. One archive, with a manifest of SHA-256 hashes checked on restore."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

FORMAT_VERSION = 1


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    files: int
    database_engine: str


def _database() -> dict[str, Any]:
    return dict(connections["default"].settings_dict)


def _engine() -> str:
    engine = _database()["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise BackupError(f"backups are not supported for the database engine {engine}")


def _pg_env(database: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    options = database.get("OPTIONS", {})
    host = database.get("HOST") or options.get("host") or ""
    port = database.get("PORT") or options.get("port") or ""
    env.update(
        {
            "PGHOST": str(host),
            "PGPORT": str(port),
            "PGUSER": str(database.get("USER") or ""),
            "PGPASSWORD": str(database.get("PASSWORD") or ""),
            "PGDATABASE": str(database["NAME"]),
        }
    )
    return {k: v for k, v in env.items() if v != ""}


def _dump_database(target: Path) -> None:
    database = _database()
    connections["default"].close()
    if _engine() == "sqlite":
        source = sqlite3.connect(str(database["NAME"]))
        destination = sqlite3.connect(str(target))
        with destination:
            source.backup(destination)
        source.close()
        destination.close()
        return
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target)], _pg_env(database))


def _restore_database(source: Path) -> None:
    database = _database()
    connections["default"].close()
    if _engine() == "sqlite":
        origin = sqlite3.connect(str(source))
        destination = sqlite3.connect(str(database["NAME"]))
        with destination:
            origin.backup(destination)
        origin.close()
        destination.close()
        return
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            str(database["NAME"]),
            str(source),
        ],
        _pg_env(database),
    )


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed; install PostgreSQL's client tools")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip().splitlines()[-1:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _folders() -> dict[str, Path]:
    return {
        "uploads": Path(settings.MEDIA_ROOT),
        "warehouse": Path(settings.MUTUALISE_WAREHOUSE_DIR),
    }


def backup(out: Path) -> BackupSummary:
    """Write one .tar.gz holding the database dump, uploads and warehouse, with a manifest."""
    out = out.resolve()
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file name")
    with tempfile.TemporaryDirectory(prefix="mutualise-backup-") as work:
        staging = Path(work)
        dump = staging / ("database.sqlite3" if _engine() == "sqlite" else "database.pgdump")
        _dump_database(dump)
        files: dict[str, str] = {dump.name: _sha256(dump)}
        for name, folder in _folders().items():
            if folder.exists():
                shutil.copytree(folder, staging / name)
                for path in sorted((staging / name).rglob("*")):
                    if path.is_file():
                        files[str(path.relative_to(staging))] = _sha256(path)
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "database_engine": _engine(),
            "files": files,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        partial = out.with_suffix(out.suffix + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            for path in sorted(staging.iterdir()):
                archive.add(path, arcname=path.name)
        partial.rename(out)
    return BackupSummary(out, len(files), manifest["database_engine"])


def restore(archive_path: Path) -> BackupSummary:
    """Replace the database, uploads and warehouse with the archive's, after checking hashes."""
    if not archive_path.exists():
        raise BackupError(f"{archive_path} does not exist")
    with tempfile.TemporaryDirectory(prefix="mutualise-restore-") as work:
        staging = Path(work)
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                archive.extractall(staging, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"{archive_path} is not a readable backup: {exc}") from exc
        manifest = _read_manifest(staging)
        if manifest["database_engine"] != _engine():
            raise BackupError(
                f"this backup is of a {manifest['database_engine']} database; the service is "
                f"configured for {_engine()}"
            )
        for name, expected in manifest["files"].items():
            path = staging / name
            if not path.is_file() or _sha256(path) != expected:
                raise BackupError(f"{name} is missing or damaged in the backup; nothing restored")
        dump = staging / ("database.sqlite3" if _engine() == "sqlite" else "database.pgdump")
        _restore_database(dump)
        for name, folder in _folders().items():
            if folder.exists():
                shutil.rmtree(folder)
            if (staging / name).exists():
                shutil.copytree(staging / name, folder)
    return BackupSummary(archive_path, len(manifest["files"]), manifest["database_engine"])


def _read_manifest(staging: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((staging / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError("the backup has no readable manifest.json") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"backup format {manifest.get('format')} is not supported")
    return dict(manifest)
