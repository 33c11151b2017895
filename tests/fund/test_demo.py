import datetime as dt

import pytest

from mutualise.fund.demo import seed_demo
from mutualise.fund.models import Application, Fund, FundRound, LedgerEntry, RoundState
from mutualise.fund.reports import round_summary
from tests.factories import OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def test_demo_seeds_two_funds_with_open_closed_and_decided_rounds_idempotently():
    officer = grant(UserFactory(username="off-1"), "programme_officer")
    for n in (1, 2, 3):
        grant(UserFactory(username=f"ass-{n}"), "assessor")
    organisations = []
    for n in range(1, 13):
        key = f"org-{n:03d}"
        kind = "mutual" if n % 4 == 0 else "staff_group"
        organisation = OrganisationFactory(
            reference=key, kind=kind, spun_out_on=dt.date(2024, 4, 1) if kind == "mutual" else None
        )
        grant(UserFactory(username=f"{key}-member"), "staff_group_member", organisation)
        organisations.append({"key": key, "kind": kind})
    programme = {
        "organisations": organisations,
        "officers": [{"key": "off-1"}],
        "assessors": [{"key": f"ass-{n}"} for n in (1, 2, 3)],
    }
    seed_demo(programme, 7)
    entries = LedgerEntry.objects.count()
    seed_demo(programme, 7)
    assert LedgerEntry.objects.count() == entries
    assert Fund.objects.count() == 2
    states = {r.state() for r in FundRound.objects.all()}
    assert {RoundState.OPEN, RoundState.CLOSED, RoundState.DECIDED} <= states
    assert Application.objects.filter(status="approved").exists()
    assert LedgerEntry.objects.filter(kind="payment").exists()
    for fund_round in FundRound.objects.all():
        summary = round_summary(fund_round)
        assert summary.balance.committed <= summary.balance.budget
    assert officer
