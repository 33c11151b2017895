"""Build the permission matrix's world once per module, inside a transaction rolled back at the
end (each test runs in a savepoint inside it), so it works the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import transaction


def _clear_evidence_caches() -> None:
    from mutualise.evidence import services, views

    services._current_cache.clear()
    views._page_cache.clear()


def _sign_in_once(users: dict) -> dict:
    """A session per role, made once: signing in for every test would double the run time."""
    from django.conf import settings
    from django.test import Client

    sessions = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return sessions


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from tests.security.world import build_world

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            _clear_evidence_caches()
            built = build_world()
            built["sessions"] = _sign_in_once(built["users"])
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            _clear_evidence_caches()


@pytest.fixture(scope="module")
def _module_client():
    """One test client for the module: a new client loads the middleware again (WhiteNoise
    scans every static file then), which would cost about a second per test."""
    from django.test import Client

    return Client()


@pytest.fixture
def matrix_client(_module_client, db):
    _module_client.cookies.clear()
    yield _module_client
    _module_client.cookies.clear()
