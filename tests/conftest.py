"""Shared fixtures. The database is SQLite by default; set DATABASE_URL to run on PostgreSQL."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("MUTUALISE_MODE", "test")
os.environ.setdefault("MUTUALISE_VAR_DIR", tempfile.mkdtemp(prefix="mutualise-test-var-"))

import pytest

from tests.factories import (
    JourneyFactory,
    OrganisationFactory,
    PublicBodyFactory,
    UserFactory,
    grant,
)


@pytest.fixture
def officer(db):
    return grant(UserFactory(username="officer"), "programme_officer")


@pytest.fixture
def public_body(db):
    return PublicBodyFactory()


@pytest.fixture
def staff_group(db, public_body):
    return OrganisationFactory(parent_body=public_body)


@pytest.fixture
def journey(db, staff_group):
    return JourneyFactory(organisation=staff_group)


@pytest.fixture
def member(db, staff_group):
    return grant(UserFactory(username="member"), "staff_group_member", staff_group)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client
