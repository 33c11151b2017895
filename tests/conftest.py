"""Shared fixtures. The database is SQLite by default; set DATABASE_URL to run on PostgreSQL.

Test mode and a throwaway var directory come from mutualise.config.settings_test (see
pyproject.toml). Factories are imported inside the fixtures so the Django-free suites (tests/pipeline,
tests/synth) also run with `-p no:django`.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def officer(db):
    from tests.factories import UserFactory, grant

    return grant(UserFactory(username="officer"), "programme_officer")


@pytest.fixture
def public_body(db):
    from tests.factories import PublicBodyFactory

    return PublicBodyFactory()


@pytest.fixture
def staff_group(db, public_body):
    from tests.factories import OrganisationFactory

    return OrganisationFactory(parent_body=public_body)


@pytest.fixture
def journey(db, staff_group):
    from tests.factories import JourneyFactory

    return JourneyFactory(organisation=staff_group)


@pytest.fixture
def member(db, staff_group):
    from tests.factories import UserFactory, grant

    return grant(UserFactory(username="member"), "staff_group_member", staff_group)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client
