from hypothesis import given, settings
from hypothesis import strategies as st

from mutualise.fund import ledger


def test_balances_sum_entries():
    entries = [
        ledger.Entry("allocation", 1000),
        ledger.Entry("commitment", 600, 1),
        ledger.Entry("payment", 200, 1),
        ledger.Entry("release", -100, 1),
        ledger.Entry("clawback", -50, 1),
        ledger.Entry("release", -50, 1),
    ]
    balance = ledger.balances(entries)
    assert balance.budget == 1000
    assert balance.committed == 450
    assert balance.paid == 150
    assert balance.remaining == 550
    assert balance.awards[1].unpaid == 300
    assert ledger.invariant_problems(balance) == []


def test_invariant_problems_are_named():
    balance = ledger.balances(
        [
            ledger.Entry("allocation", 10),
            ledger.Entry("commitment", 20, 1),
            ledger.Entry("payment", 30, 1),
        ]
    )
    problems = ledger.invariant_problems(balance)
    assert any("more than the budget" in p for p in problems)
    assert any("paid 30 more than committed 20" in p for p in problems)


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(ledger.KINDS)), st.integers(-(10**9), 10**9), st.integers(1, 3)
        )
    )
)
def test_balance_is_order_independent(items):
    entries = [
        ledger.Entry(kind, amount, None if kind == "allocation" else award)
        for kind, amount, award in items
    ]
    forwards = ledger.balances(entries)
    backwards = ledger.balances(reversed(entries))
    assert (forwards.budget, forwards.committed, forwards.paid) == (
        backwards.budget,
        backwards.committed,
        backwards.paid,
    )
