"""The fund ledger's arithmetic, as pure functions over plain entries (no database access).

The ledger is append-only. Every balance is a sum over entries; nothing is stored that can drift.

    budget(round)      = Σ allocation
    committed(round)   = Σ commitment + Σ release          (releases are negative)
    committed(award)   = the same, over the award's entries
    paid(award)        = Σ payment + Σ clawback            (clawbacks are negative)
    remaining(round)   = budget − committed

Invariants, true after every entry: committed(round) ≤ budget(round); for every award
0 ≤ paid ≤ committed. Each service checks the invariant its entry could break, under a lock on the
round row, before it writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ALLOCATION = "allocation"
COMMITMENT = "commitment"
RELEASE = "release"
PAYMENT = "payment"
CLAWBACK = "clawback"

KINDS = {
    ALLOCATION: "Budget allocated",
    COMMITMENT: "Award committed",
    RELEASE: "Commitment released",
    PAYMENT: "Payment made",
    CLAWBACK: "Payment clawed back",
}
COMMITTED_KINDS = (COMMITMENT, RELEASE)
PAID_KINDS = (PAYMENT, CLAWBACK)


@dataclass(frozen=True)
class Entry:
    kind: str
    amount_pence: int
    award_id: int | None = None


@dataclass
class AwardBalance:
    committed: int = 0
    paid: int = 0

    @property
    def unpaid(self) -> int:
        return self.committed - self.paid


@dataclass
class RoundBalance:
    budget: int = 0
    committed: int = 0
    paid: int = 0
    awards: dict[int, AwardBalance] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return self.budget - self.committed

    @property
    def unpaid(self) -> int:
        return self.committed - self.paid


def balances(entries: Iterable[Entry]) -> RoundBalance:
    result = RoundBalance()
    for entry in entries:
        if entry.kind == ALLOCATION:
            result.budget += entry.amount_pence
            continue
        award = result.awards.setdefault(entry.award_id or 0, AwardBalance())
        if entry.kind in COMMITTED_KINDS:
            result.committed += entry.amount_pence
            award.committed += entry.amount_pence
        elif entry.kind in PAID_KINDS:
            result.paid += entry.amount_pence
            award.paid += entry.amount_pence
        else:
            raise ValueError(f"unknown ledger entry kind {entry.kind}")
    return result


def invariant_problems(balance: RoundBalance) -> list[str]:
    """Everything wrong with a set of balances; an empty list means the ledger is sound."""
    problems = []
    if balance.budget < 0:
        problems.append(f"the budget is negative ({balance.budget})")
    if balance.committed > balance.budget:
        problems.append(f"committed {balance.committed} is more than the budget {balance.budget}")
    for award_id, award in balance.awards.items():
        if award.committed < 0:
            problems.append(f"award {award_id} has a negative commitment")
        if award.paid < 0:
            problems.append(f"award {award_id} has negative payments")
        if award.paid > award.committed:
            problems.append(
                f"award {award_id} paid {award.paid} more than committed {award.committed}"
            )
    return problems
