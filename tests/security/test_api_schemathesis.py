"""Schemathesis over the open data API: every operation, real data, zero server errors.

The schema is the one the running app serves at /api/openapi.json, loaded in-process from the
WSGI app, and every request goes through the whole middleware stack. The evidence world (see
tests/evidence/conftest.py) is built once for the module, with its snapshot, inside a
transaction rolled back at the end, so the endpoints answer with real figures on SQLite and on
PostgreSQL alike.

Both generation modes run: valid requests must get a documented answer that matches its
schema, and invalid ones (a page that is not a number, say) a documented JSON 4xx, never a 500.
Examples are bounded and derandomized so CI sees the same requests every run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SCHEMA_PATH = "/api/openapi.json"


def valid_requests_find_the_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request that fits the document names a figure that exists, so a 404 means the snapshot
    is missing: every operation would then pass on its documented 404 without reading a row."""
    if case.meta is not None and case.meta.generation.mode.is_positive:
        assert response.status_code != 404, f"404 for a valid request: {response.text}"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    valid_requests_find_the_data,
]


def _clear_evidence_caches() -> None:
    from mutualise.evidence import services

    services._current_cache.clear()


# Loaded at collection, from the app itself: schemathesis makes one test per operation from it.
# Serving the document touches no database, so it needs no test database yet. (Loading it from a
# fixture with `schemathesis.pytest.from_fixture` would be lazier, but schemathesis 4.32's lazy
# schemas set `request.node._nodeid`, which pytest 9 no longer has.)
APP = WSGIHandler()
schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, APP)


@pytest.fixture(scope="module")
def evidence_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The evidence world and its snapshot, for every request the module's tests send.

    Django's WSGI handler closes "old" database connections when a request starts and ends;
    inside the module's transaction that would close the connection holding the world. Django's
    own test client unhooks the same signal handler for the same reason.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, transaction

    from mutualise.evidence.services import refresh_snapshot
    from tests.evidence.conftest import build_world

    with django_db_blocker.unblock(), transaction.atomic():
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            _clear_evidence_caches()
            build_world()
            refresh_snapshot(as_of=dt.date(2025, 6, 30))
            yield
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
            _clear_evidence_caches()
            transaction.set_rollback(True)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_conforms_and_never_errors(case: Any, evidence_world: None) -> None:
    case.call_and_validate(checks=CHECKS)


def test_the_openapi_document_is_valid() -> None:
    """The served document validates against the OpenAPI meta-schema and every operation in it
    resolves (schemathesis loads a document without validating it; `validate` raises)."""
    schema.validate()
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {
        "GET /api/snapshot",
        "GET /api/metrics",
        "GET /api/metrics/{slug}",
        "GET /api/metrics/{slug}/rows",
        "GET /api/ocds/programme-contracts",
    } <= labels
