"""No personal data or secrets reach the logs."""

import io
import logging
import logging.config

import pytest
from django.conf import settings
from django.test import override_settings

from mutualise.core.logprivacy import axes_client_str, redact
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("login failed {'username': 'jo.bloggs', 'ip_address': '10.1.2.3'}", "jo.bloggs"),
        ("login failed {'username': 'jo.bloggs', 'ip_address': '10.1.2.3'}", "10.1.2.3"),
        ("POST password=hunter2-hunter2&next=/", "hunter2"),
        ("Key (email)=(jo@example.org) already exists.", "jo@example.org"),
        ("sent to Jo Bloggs <jo.bloggs@council.gov.uk>", "jo.bloggs@council.gov.uk"),
        ('{"token": "abc123def456"}', "abc123def456"),
        ("Authorization: Bearer s3cr3t", "s3cr3t"),
    ],
)
def test_redact_masks_identities_and_secrets(line, secret):
    assert secret not in redact(line)


def test_redact_keeps_ordinary_lines():
    line = "level=INFO logger=mutualise.pipeline ingested 1,204 releases from cf-2025.jsonl"
    assert redact(line) == line


def test_axes_names_a_client_by_a_stable_pseudonym():
    first = axes_client_str("jo.bloggs", "10.1.2.3", "Firefox", "/sign-in/", None)
    assert "jo.bloggs" not in first and "10.1.2.3" not in first
    assert first == axes_client_str("jo.bloggs", "10.1.2.3", "Chrome", "/sign-in/", None)
    assert first != axes_client_str("someone.else", "10.1.2.3", "Firefox", "/sign-in/", None)


@pytest.fixture
def service_log():
    """The service's own log configuration, writing to a buffer."""
    stream = io.StringIO()
    config = {
        **settings.LOGGING,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "stream": stream,
            }
        },
    }
    config["root"] = {**config["root"], "level": "INFO"}
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True)
def test_failed_sign_ins_and_a_lockout_log_no_username_or_password(client, service_log):
    UserFactory(username="jo.bloggs", email="jo.bloggs@example.org")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(
            "/sign-in/",
            {"username": "jo.bloggs", "password": "wrong-password-123"},
            REMOTE_ADDR="10.1.2.3",
        )
    logged = service_log.getvalue()
    assert "logger=axes" in logged and "client=" in logged  # the attempts are still visible
    for secret in ("jo.bloggs", "wrong-password-123", "10.1.2.3"):
        assert secret not in logged
