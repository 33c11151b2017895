"""A database restart during web requests: the user gets the service's error page, never a
traceback or a half-made change, and the service recovers by itself.

A private PostgreSQL cluster (tests/ops/pg.py; the shared test server is left alone) is migrated
with `mutualise migrate` and served by `mutualise serve` (gunicorn) with persistent connections
(MUTUALISE_CONN_MAX_AGE=60), the production setting that a restart most easily breaks. Then:

1. a stage move is made to wait on a row lock held by another session, and the server is
   restarted (fast shutdown) while the request is inside its transaction: the user gets the
   500 page, and neither the move nor its audit event is there afterwards;
2. with the server stopped, a page and /health/ answer 500 and 503, not a traceback;
3. with the server back, the same gunicorn serves pages again, the move goes through once,
   with one audit event, and `mutualise audit verify` passes;
4. a restart between requests costs no request an error (CONN_HEALTH_CHECKS).

Runs only on the PostgreSQL pass of the suite (DATABASE_URL names PostgreSQL).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops.pg import Cluster, binaries_missing

ROOT = Path(__file__).resolve().parents[2]
ERROR_HEADING = "Sorry, there is a problem with the service"

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="runs on the PostgreSQL pass only (DATABASE_URL does not name PostgreSQL)",
    ),
    pytest.mark.skipif(binaries_missing() is not None, reason=binaries_missing() or ""),
]

SEED = """
import json, django
django.setup()
from django.test import Client
from tests.factories import JourneyFactory, UserFactory, grant
officer = grant(UserFactory(username="restart-officer"), "programme_officer")
journey = JourneyFactory()
client = Client()
client.force_login(officer)
print(json.dumps({"journey": journey.pk, "stage": journey.stage,
                  "session": client.cookies["sessionid"].value}))
"""

STATE = """
import json, django
django.setup()
from mutualise.core.models import AuditEvent
from mutualise.journeys.models import Journey
journey = Journey.objects.get(pk={pk})
events = AuditEvent.objects.filter(action="journey.moved", object_id=str(journey.pk)).count()
print(json.dumps({{"stage": journey.stage, "moves": events}}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # In /tmp itself: the postgres user cannot enter pytest's root-only temporary folders.
    folder = Path(tempfile.mkdtemp(prefix="mutualise-restart-pg-"))
    server = Cluster(folder, 20000 + os.getpid() % 20000)
    try:
        server.init().start()
        yield server
    finally:
        server.destroy()


def env_for(cluster: Cluster, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUTUALISE_", "DJANGO_"))}
    env.update(
        DATABASE_URL=cluster.url,
        MUTUALISE_MODE="test",
        MUTUALISE_VAR_DIR=str(tmp_path / "var"),
        MUTUALISE_CONN_MAX_AGE="60",
        DJANGO_SETTINGS_MODULE="mutualise.config.settings",
    )
    return env


def python(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def mutualise(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return python(env, "-m", "mutualise.cli", *arguments)


@pytest.fixture
def served(
    cluster: Cluster, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str], dict[str, Any]]]:
    env = env_for(cluster, tmp_path)
    migrated = mutualise(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    seeded = python(env, "-c", SEED)
    assert seeded.returncode == 0, seeded.stderr
    world = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "mutualise.cli", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(
                "gunicorn did not come up: " + (tmp_path / "gunicorn.log").read_text()
            )
        yield base, env, world
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def state(env: dict[str, str], journey: int) -> dict[str, Any]:
    result = python(env, "-c", STATE.format(pk=journey))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_error_page(response: httpx.Response) -> None:
    assert response.status_code in (500, 503), (response.status_code, response.text[:500])
    assert ERROR_HEADING in response.text, response.text[:1000]
    assert "Traceback" not in response.text
    assert "psycopg" not in response.text and "OperationalError" not in response.text


def test_a_database_restart_gives_an_error_page_and_no_half_made_change(
    served: tuple[str, dict[str, str], dict[str, Any]], cluster: Cluster
) -> None:
    import psycopg

    base, env, world = served
    journey = world["journey"]
    client = httpx.Client(base_url=base, cookies={"sessionid": world["session"]}, timeout=30)
    detail = client.get(f"/journeys/{journey}/")
    assert detail.status_code == 200, detail.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', detail.text)
    assert token, "no CSRF token on the journey page"
    move = {"csrfmiddlewaretoken": token.group(1), "target": "WITHDRAWN", "note": "restart test"}
    headers = {"Referer": f"{base}/journeys/{journey}/"}
    assert state(env, journey) == {"stage": world["stage"], "moves": 0}

    # 1. The move waits on a row lock inside its transaction; the server restarts under it.
    locker = psycopg.connect(cluster.url.replace("postgres://", "postgresql://"), autocommit=False)
    locker.execute("SELECT id FROM journeys_journey WHERE id = %s FOR UPDATE", (journey,))
    answer: dict[str, httpx.Response] = {}
    request = threading.Thread(
        target=lambda: answer.setdefault(
            "move", client.post(f"/journeys/{journey}/move/", data=move, headers=headers)
        )
    )
    request.start()
    deadline = time.monotonic() + 20
    with psycopg.connect(
        cluster.url.replace("postgres://", "postgresql://"), autocommit=True
    ) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the move never reached the locked row")
    cluster.stop("fast")  # ends every session, the waiting transaction with it
    request.join(timeout=30)
    with contextlib.suppress(psycopg.Error):
        locker.close()
    assert_error_page(answer["move"])

    # 2. While the database is down: the error page, and the health check says so.
    assert_error_page(client.get(f"/journeys/{journey}/"))
    # A load balancer's health check (no session cookie) is told the database is down.
    assert httpx.get(f"{base}/health/", timeout=30).status_code == 503

    # 3. Back up: the same gunicorn recovers, nothing of the interrupted move is there.
    cluster.start()
    assert state(env, journey) == {"stage": world["stage"], "moves": 0}
    page = client.get(f"/journeys/{journey}/")
    assert page.status_code == 200, page.text[:500]
    assert httpx.get(f"{base}/health/", timeout=30).status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token
    moved = client.post(
        f"/journeys/{journey}/move/",
        data={**move, "csrfmiddlewaretoken": token.group(1)},
        headers=headers,
    )
    assert moved.status_code == 302, moved.text[:500]
    assert state(env, journey) == {"stage": "WITHDRAWN", "moves": 1}
    verified = mutualise(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # 4. A restart between two requests: the first request after it is served normally (the
    # persistent connection is health-checked before reuse, not found dead mid-request).
    cluster.stop("fast")
    cluster.start()
    for _ in range(3):  # gunicorn's threads each hold a connection; any may answer
        again = client.get(f"/journeys/{journey}/")
        assert again.status_code == 200, again.text[:500]
