"""Fifty officers approve at the same moment; the round can never be overspent.

On PostgreSQL each approval locks the round row (SELECT … FOR UPDATE) before it reads the ledger
sums, so approvals serialise on the round. On SQLite, IMMEDIATE transactions serialise writers;
a smaller SQLite version of the race runs too."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from mutualise.fund import services
from mutualise.fund.models import Application, round_balance
from mutualise.fund.services import Refused
from tests.factories import OrganisationFactory, UserFactory, grant
from tests.fund.factories import GOOD_ANSWERS, make_round

THREADS = 50
AMOUNT = 1_000_000  # £10,000 each
BUDGET = 23 * AMOUNT + 500_000  # room for 23 awards and a half; 50 try


def _applications(fund_round, count):
    applications = []
    for n in range(count):
        organisation = OrganisationFactory()
        applications.append(
            Application.objects.create(
                round=fund_round,
                organisation=organisation,
                reference=f"C{n}",
                status="in_assessment",
                answers={**GOOD_ANSWERS, "amount_requested": AMOUNT},
                amount_requested_pence=AMOUNT,
            )
        )
    return applications


def _race(officer, applications):
    barrier = threading.Barrier(len(applications))
    approved, refused, errors = [], [], []

    def approve(application):
        try:
            barrier.wait(timeout=30)
            services.approve_application(
                actor=officer, application=application, amount_pence=AMOUNT
            )
            approved.append(application.pk)
        except Refused as refusal:
            refused.append(refusal.reasons)
        except Exception as exc:  # every failure is reported by the test
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(a,)) for a in applications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return approved, refused, errors


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_approvals_never_overspend_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); set DATABASE_URL to a PostgreSQL database")
    officer = grant(UserFactory(username="racer"), "programme_officer")
    fund_round = make_round(officer, budget_pence=BUDGET, maximum_award_pence=AMOUNT)
    applications = _applications(fund_round, THREADS)
    approved, refused, errors = _race(officer, applications)
    assert errors == []
    balance = round_balance(fund_round.pk)
    assert balance.committed <= balance.budget
    assert len(approved) == 23
    assert balance.committed == 23 * AMOUNT
    assert len(refused) == THREADS - 23
    for reasons in refused:
        assert any("£5,000.00 remains" in reason for reason in reasons), reasons
    assert Application.objects.filter(status="approved").count() == 23


def _in_memory_sqlite() -> bool:
    name = str(
        connection.settings_dict.get("TEST", {}).get("NAME") or connection.settings_dict["NAME"]
    )
    return connection.vendor == "sqlite" and ("memory" in name or name == "")


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_overspend_on_any_database():
    if _in_memory_sqlite():
        pytest.skip(
            "in-memory SQLite uses shared-cache table locks; the file-database race "
            "below covers SQLite"
        )
    officer = grant(UserFactory(username="racer"), "programme_officer")
    fund_round = make_round(officer, budget_pence=3 * AMOUNT + 1, maximum_award_pence=AMOUNT)
    applications = _applications(fund_round, 8)
    approved, refused, errors = _race(officer, applications)
    assert errors == []
    assert len(approved) == 3
    assert len(refused) == 5
    assert round_balance(fund_round.pk).committed == 3 * AMOUNT
    assert all(any("remains" in r for r in reasons) for reasons in refused)


SQLITE_RACE = """
import os, sys, threading, django
from django.core.management import call_command
django.setup()
call_command("migrate", verbosity=0)
from tests.fund.test_concurrency import _applications, _race, AMOUNT
from tests.fund.factories import make_round
from tests.factories import UserFactory, grant
from mutualise.fund.models import round_balance
officer = grant(UserFactory(username="racer"), "programme_officer")
fund_round = make_round(officer, budget_pence=3 * AMOUNT + 1, maximum_award_pence=AMOUNT)
approved, refused, errors = _race(officer, _applications(fund_round, 10))
balance = round_balance(fund_round.pk)
print(len(approved), len(refused), len(errors), balance.committed, balance.budget)
assert not errors, errors
assert len(approved) == 3 and balance.committed <= balance.budget
assert all(any("remains" in r for r in reasons) for reasons in refused)
"""


def test_concurrent_approvals_never_overspend_on_a_sqlite_file(tmp_path):
    """SQLite as deployed (a file, WAL, IMMEDIATE transactions): ten threads race."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "MUTUALISE_MODE": "test",
        "MUTUALISE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "mutualise.config.settings",
        "PYTHONPATH": f"{root}{os.pathsep}{root / 'src'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_RACE],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    approved, refused, errors, committed, budget = result.stdout.split()[-5:]
    assert (approved, refused, errors) == ("3", "7", "0")
    assert int(committed) <= int(budget)
