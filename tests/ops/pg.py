"""A private PostgreSQL cluster for tests that must stop and start their own server.

Found and run the way scripts/with-postgres.sh does: initdb/pg_ctl from PATH, else the newest
/usr/lib/postgresql/*/bin; as the `postgres` system user when we are root (PostgreSQL refuses
to run as root); listening only on a Unix socket in the cluster's own folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: [int(p) if p.isdigit() else p for p in Path(path).parts[-3].split(".")],
    )
    return candidates[-1] if candidates else None


def binaries_missing() -> str | None:
    """Why a private cluster cannot be run here, or None."""
    for name in ("initdb", "pg_ctl"):
        if find_bin(name) is None:
            return f"PostgreSQL server binary {name} not found (PATH, /usr/lib/postgresql/*/bin)"
    if os.getuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to drop to the postgres user"
    return None


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


class Cluster:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.pg_ctl = find_bin("pg_ctl") or "pg_ctl"

    @property
    def url(self) -> str:
        return f"postgres://postgres@{quote(str(self.folder), safe='')}:{self.port}/postgres"

    def _run(self, *arguments: str) -> None:
        subprocess.run(_as_postgres(list(arguments)), check=True, capture_output=True, timeout=120)

    def init(self) -> Cluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres")
        initdb = find_bin("initdb") or "initdb"
        self._run(
            initdb,
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses='' -c fsync=off "
            "-c full_page_writes=off -c max_connections=50"
        )
        self._run(
            self.pg_ctl,
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
