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


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for all the `spark` tests (they run in one xdist worker: the
    Makefile passes --dist loadgroup and they carry @pytest.mark.xdist_group("spark")).

    The pipeline gets its sessions with SparkSession.builder...getOrCreate(), which returns this
    session when it exists and applies only runtime settings to it, so this one is made with
    every static setting any caller needs: Splink's similarity functions jar (resolve), UTC,
    microsecond Parquet timestamps, small shuffles and no UI."""
    import os

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    # One partition: the test worlds are tiny, and on two cores every extra task is pure
    # scheduling overhead (the pipeline reads this when it sets its runtime configuration).
    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "1")

    session = (
        SparkSession.builder.appName("mutualise-tests")
        .master(os.environ.get("SPARK_MASTER", "local[2]"))
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "1g"))
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
