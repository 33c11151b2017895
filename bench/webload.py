"""What the web benchmarks share: a PostgreSQL world of contracts, gunicorn, locust and the sums.

bench/web.py (the evidence issue's budget) and bench/load.py (the hardening issue's 200 users)
differ only in who the simulated users are; everything else is here. Every request locust makes
is written to a CSV by a hook in the locustfile, so percentiles are computed over exactly the
requests a line of the report names (for example "every page view" without the sign-in POSTs,
whose argon2 hashing is meant to be slow).
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

CLASSES = (
    "PUBLIC_SERVICE_MUTUAL",
    "OTHER_SOCIAL_ENTERPRISE_OR_VCSE",
    "SME",
    "LARGE_PRIVATE",
    "PUBLIC_BODY",
    "UNKNOWN",
)
CLASS_WEIGHTS = (3, 12, 40, 30, 10, 5)
CPVS = (
    "85100000",
    "85323000",
    "85311000",
    "85312000",
    "80110000",
    "92500000",
    "92610000",
    "80300000",
    "79622000",
    "98133000",
    "72000000",
    "79410000",
    "45000000",
)
OUTCOMES = (
    "RETAINED",
    "LOST_TO_LARGE_PRIVATE",
    "LOST_TO_SME_OR_VCSE",
    "INSOURCED",
    "PENDING",
    "EXTENDED",
    "UNKNOWN",
)
CONTRACT_COLUMNS = (
    "ocid",
    "award_id",
    "process_ocid",
    "title",
    "cpv",
    "buyer_identifier",
    "buyer_name",
    "buyer_key",
    "supplier_identifier",
    "supplier_name",
    "supplier_organisation_id",
    "supplier_class",
    "value_pence",
    "award_date",
    "start_date",
    "end_date",
    "extended",
    "reserved",
    "procedure",
    "missed_reservation",
    "reservation_regime",
    "content_hash",
    "loaded_at",
)

# Appended to every locustfile: one line per request, read back by `samples`.
RECORDER = r"""
import csv as _csv, os as _os
from locust import events as _events

_log = open(_os.environ["BENCH_REQUEST_LOG"], "w", newline="", encoding="utf-8")
_writer = _csv.writer(_log)


@_events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    _writer.writerow((request_type, name, round(response_time, 2), "" if exception is None
                      else type(exception).__name__ + ": " + str(exception)[:200]))


@_events.quitting.add_listener
def _close(environment, **kwargs):
    _log.close()
"""


@dataclass(frozen=True)
class Sample:
    method: str
    name: str
    milliseconds: float
    error: str


def setup_django(var_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualise.config.settings")
    os.environ["MUTUALISE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("MUTUALISE_MODE", "demo")
    import django

    django.setup()


def require_postgres() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("run under scripts/with-postgres.sh (DATABASE_URL must point at PostgreSQL)")


def load_contracts(count: int, buyers: list[str], mutual_ids: Iterable[int] = ()) -> float:
    """COPY `count` contract-watch contracts, outcomes for a tenth of them; returns seconds.

    About twenty contracts per mutual go to `mutual_ids` (so the radar and timelines have
    rows, at the scale a programme mutual holds).
    """
    from django.db import connection

    started = time.monotonic()
    rng = random.Random(2026)
    mutuals = list(mutual_ids)
    mutual_share = min(1.0, 20 * len(mutuals) / count) if count else 0.0
    buyer_names = buyers + [f"Other Buyer {n}" for n in range(400)]
    loaded_at = "2025-07-01 00:00:00+00"
    base = date(2016, 1, 1)
    copy_sql = (
        f"COPY watch_watchedcontract ({', '.join(CONTRACT_COLUMNS)})"
        " FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    )
    with connection.cursor() as cursor:
        chunk = 100_000
        for offset in range(0, count, chunk):
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for n in range(offset, min(count, offset + chunk)):
                award = base + timedelta(days=rng.randrange(0, 3500))
                start = award + timedelta(days=30)
                end = start + timedelta(days=rng.choice((364, 729, 1094, 1825)))
                buyer = rng.choice(buyer_names)
                mutual = rng.choice(mutuals) if rng.random() < mutual_share else None
                writer.writerow(
                    (
                        f"ocds-bench-{n:07d}",
                        "1",
                        "",
                        f"Community service contract {n}",
                        rng.choice(CPVS),
                        "",
                        buyer,
                        buyer.lower(),
                        "",
                        f"Supplier {n % 50000}",
                        "\\N" if mutual is None else mutual,
                        "PUBLIC_SERVICE_MUTUAL"
                        if mutual
                        else rng.choices(CLASSES, CLASS_WEIGHTS)[0],
                        rng.randrange(10_000_00, 5_000_000_00),
                        award.isoformat(),
                        start.isoformat(),
                        end.isoformat(),
                        "f",
                        "t" if rng.random() < 0.01 else "f",
                        "",
                        "f",
                        "",
                        "x",
                        loaded_at,
                    )
                )
            with cursor.cursor.copy(copy_sql) as copy:
                copy.write(buffer.getvalue())
        cursor.execute(f"""
            INSERT INTO watch_contractoutcome (contract_id, outcome, confidence, reason,
                source_rows, successor_ocid, successor_award_id, successor_class,
                successor_supplier_name, as_of)
            SELECT id, (ARRAY[{", ".join(repr(o) for o in OUTCOMES)}])[1 + (id % {len(OUTCOMES)})],
                   0.9, 'bench', '', '', '', '', '', DATE '2025-06-30'
            FROM watch_watchedcontract WHERE id % 10 = 0 AND ocid LIKE 'ocds-bench-%'""")
        cursor.execute("ANALYZE")
    return time.monotonic() - started


def refresh_evidence() -> tuple[str, float]:
    from mutualise.evidence.services import refresh_snapshot

    started = time.monotonic()
    snapshot = refresh_snapshot()
    return snapshot.snapshot_id, time.monotonic() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - loopback only
        response.read()


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer at {url}")


@contextmanager
def gunicorn(work: Path, workers: int, threads: int = 4) -> Iterator[str]:
    """Serve the app the way `mutualise serve` does (same keep-alive), on a free loopback port."""
    from django.db import connections

    connections.close_all()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MUTUALISE_VAR_DIR": str(work / "var"),
        "MUTUALISE_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MUTUALISE_CONN_MAX_AGE": "60",
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "mutualise.config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--keep-alive",
        "75",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        wait_for(base + "/health/")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def run_locust(
    locustfile: str, base: str, users: int, seconds: int, work: Path, spawn_rate: float
) -> list[Sample]:
    """Run locust headless and return every request it made."""
    path = work / "locustfile.py"
    path.write_text(locustfile + RECORDER, encoding="utf-8")
    log = work / "requests.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(path),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(spawn_rate),
            "-t",
            f"{seconds}s",
            "--host",
            base,
            "--only-summary",
            "--stop-timeout",
            "10",
        ],
        check=False,
        timeout=seconds + 180,
        cwd=work,
        env={**os.environ, "BENCH_REQUEST_LOG": str(log)},
    )
    with log.open(encoding="utf-8", newline="") as handle:
        return [Sample(m, n, float(ms), error) for m, n, ms, error in csv.reader(handle)]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (the definition locust's own report uses, near enough)."""
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))
    return ordered[rank - 1]


def summary_row(label: str, samples: list[Sample]) -> str:
    times = [s.milliseconds for s in samples]
    errors = sum(1 for s in samples if s.error)
    if not times:
        return f"| {label} | 0 | 0 | – | – | – |"
    return (
        f"| {label} | {len(times):,} | {errors} | {percentile(times, 0.5):.0f}"
        f" | {percentile(times, 0.95):.0f} | {percentile(times, 0.99):.0f} |"
    )


def request_table(samples: list[Sample], totals: dict[str, list[Sample]]) -> list[str]:
    lines = [
        "| requests | count | errors | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [summary_row(f"**{label}**", group) for label, group in totals.items()]
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        by_name.setdefault(f"{sample.method} {sample.name}", []).append(sample)
    lines += [summary_row(name, group) for name, group in sorted(by_name.items())]
    return lines


def error_lines(samples: list[Sample]) -> list[str]:
    counts: dict[str, int] = {}
    for sample in samples:
        if sample.error:
            key = f"{sample.method} {sample.name}: {sample.error}"
            counts[key] = counts.get(key, 0) + 1
    return [f"- {n} × {key}" for key, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]},"
        f" load average {load[0]:.1f} when the run ended"
    )


def write_section(name: str, text: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    section = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    existing = section.sub("", existing).rstrip() + "\n\n"
    path.write_text(existing + text.rstrip() + "\n", encoding="utf-8")
