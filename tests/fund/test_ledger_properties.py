"""Property test: random sequences of awards, payments, reductions, clawbacks and budget changes,
driven through fund.services against the database. After every step the ledger invariants hold,
every balance equals the sum of its entries, and the services refused exactly what a simple model
of the rules says they must refuse."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutualise.fund import ledger, services
from mutualise.fund.models import Application, LedgerEntry, round_balance
from mutualise.fund.services import Refused
from tests.factories import OrganisationFactory
from tests.fund.factories import GOOD_ANSWERS, make_fund, make_round

pytestmark = pytest.mark.django_db

amounts = st.integers(min_value=-5, max_value=60_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("award"), amounts),
        st.tuples(st.just("pay"), st.integers(0, 7), amounts),
        st.tuples(st.just("reduce"), st.integers(0, 7), amounts),
        st.tuples(st.just("clawback"), st.integers(0, 7), amounts),
        st.tuples(st.just("budget"), st.integers(-5, 300_000)),
    ),
    min_size=1,
    max_size=25,
)


@dataclass
class ModelAward:
    award: object
    milestone: object
    committed: int
    paid: int = 0
    milestone_paid: int = 0


def assessed_application(fund_round, organisation, amount: int) -> Application:
    """Shortcut for speed: an application already in assessment (the status workflow itself is
    covered in test_services). Creating the row with a status is allowed; changing it is not."""
    return Application.objects.create(
        round=fund_round,
        organisation=organisation,
        reference=f"P{Application.objects.count()}",
        status="in_assessment",
        answers={**GOOD_ANSWERS, "amount_requested": amount},
        amount_requested_pence=amount,
    )


def check_invariants(fund_round, expected_budget, awards):
    balance = round_balance(fund_round.pk, per_award=True)
    assert ledger.invariant_problems(balance) == []
    # Every balance is the sum of its entries: recompute from the raw rows in Python.
    rows = LedgerEntry.objects.filter(round=fund_round).values_list(
        "kind", "amount_pence", "award_id"
    )
    recomputed = ledger.balances(ledger.Entry(*row) for row in rows)
    assert (recomputed.budget, recomputed.committed, recomputed.paid) == (
        balance.budget,
        balance.committed,
        balance.paid,
    )
    assert balance.budget == expected_budget
    assert balance.committed == sum(a.committed for a in awards)
    assert balance.paid == sum(a.paid for a in awards)
    for item in awards:
        actual = item.award.balance()
        assert (actual.committed, actual.paid) == (item.committed, item.paid)
        assert 0 <= actual.paid <= actual.committed


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(budget=st.integers(1, 200_000), steps=operations)
def test_ledger_invariants_hold_after_every_step(officer, budget, steps):
    # Each example runs in its own savepoint and is rolled back, so examples never share state.
    with transaction.atomic():
        run_steps(officer, budget, steps)
        transaction.set_rollback(True)


def run_steps(officer, budget, steps):
    fund = make_fund(officer, "Property fund")
    fund_round = make_round(
        officer,
        fund=fund,
        name=f"Round {LedgerEntry.objects.count()}",
        budget_pence=budget,
        maximum_award_pence=budget,
    )
    expected_budget = budget
    awards: list[ModelAward] = []
    for step in steps:
        kind = step[0]
        if kind == "award":
            amount = step[1]
            application = assessed_application(fund_round, OrganisationFactory(), max(amount, 1))
            allowed = (
                0 < amount <= expected_budget - sum(a.committed for a in awards)
                and amount <= fund_round.maximum_award_pence
            )
            try:
                award = services.approve_application(
                    actor=officer, application=application, amount_pence=amount
                )
            except Refused:
                assert not allowed, f"approval of {amount} was refused but should pass"
            else:
                assert allowed, f"approval of {amount} passed but should be refused"
                milestone = services.add_milestone(
                    actor=officer, award=award, title="All", amount_pence=amount
                )
                awards.append(ModelAward(award, milestone, amount))
        elif kind == "budget":
            new_budget = step[1]
            allowed = (
                new_budget > 0
                and new_budget >= sum(a.committed for a in awards)
                and (fund_round.maximum_award_pence <= new_budget)
            )
            try:
                services.update_round(actor=officer, fund_round=fund_round, budget_pence=new_budget)
            except Refused:
                assert not allowed
            else:
                assert allowed
                expected_budget = new_budget
        elif awards:
            item = awards[step[1] % len(awards)]
            amount = step[2]
            if kind == "pay":
                allowed = (
                    0
                    < amount
                    <= min(
                        item.committed - item.paid,
                        item.milestone.planned_amount_pence - item.milestone_paid,
                    )
                )
                call = functools.partial(
                    services.record_payment,
                    actor=officer,
                    award=item.award,
                    milestone=item.milestone,
                    amount_pence=amount,
                    evidence="Invoice",
                )
            elif kind == "reduce":
                allowed = 0 < amount <= item.committed - item.paid
                call = functools.partial(
                    services.reduce_award,
                    actor=officer,
                    award=item.award,
                    amount_pence=amount,
                    reason="Smaller",
                )
            else:
                allowed = 0 < amount <= item.paid
                call = functools.partial(
                    services.claw_back,
                    actor=officer,
                    award=item.award,
                    amount_pence=amount,
                    reason="Recovered",
                )
            try:
                call()
            except Refused:
                assert not allowed, f"{kind} {amount} was refused but should pass"
            else:
                assert allowed, f"{kind} {amount} passed but should be refused"
                if kind == "pay":
                    item.paid += amount
                    item.milestone_paid += amount
                elif kind == "reduce":
                    item.committed -= amount
                else:
                    item.paid -= amount
                    item.committed -= amount
        check_invariants(fund_round, expected_budget, awards)
