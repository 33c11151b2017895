"""Read-only figures and exports for officers: the round summary and CSV files."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from mutualise.core.csvsafe import safe_cell as safe_cell  # re-exported: tests and views use it
from mutualise.core.csvsafe import safe_row
from mutualise.fund import ledger
from mutualise.fund.models import Application, FundRound, LedgerEntry, round_balance
from mutualise.fund.rules import application_form
from mutualise.organisations.reference import label


def pounds(pence: int | None) -> Decimal | str:
    """A number cell: pence as pounds, exact. Numbers are not text, so they are not prefixed."""
    if pence is None:
        return ""
    return (Decimal(int(pence)) / 100).quantize(Decimal("0.01"))


def csv_rows(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(safe_row(row))


@dataclass
class Breakdown:
    code: str
    name: str
    applications: int = 0
    approved: int = 0
    committed: int = 0
    paid: int = 0


@dataclass
class RoundSummary:
    fund_round: FundRound
    by_status: list[tuple[str, str, int]]
    total: int
    approved: int
    rejected: int
    balance: ledger.RoundBalance
    by_sector: list[Breakdown] = field(default_factory=list)
    by_region: list[Breakdown] = field(default_factory=list)

    @property
    def approval_rate(self) -> str:
        decided = self.approved + self.rejected
        if not decided:
            return "No decisions yet"
        return f"{round(100 * self.approved / decided)}%"


DECIDED_OR_ACTIVE = ("submitted", "in_assessment", "more_information_requested")


def round_summary(fund_round: FundRound) -> RoundSummary:
    form = application_form()
    counts = dict(
        Application.objects.filter(round=fund_round)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    by_status = [(s.code, s.staff_name, counts.get(s.code, 0)) for s in form.statuses]
    summary = RoundSummary(
        fund_round=fund_round,
        by_status=by_status,
        total=sum(counts.values()),
        approved=counts.get("approved", 0),
        rejected=counts.get("rejected", 0),
        balance=round_balance(fund_round.pk),
    )
    # Two grouped queries (applications; ledger money) feed both breakdowns.
    by: dict[str, dict[str, Breakdown]] = {"sector": {}, "region": {}}

    def item(dimension: str, code: str) -> Breakdown:
        rows = by[dimension]
        if code not in rows:
            name = label(f"{dimension}s", code) if code else "Not recorded"
            rows[code] = Breakdown(code, name)
        return rows[code]

    for row in (
        Application.objects.filter(round=fund_round)
        .order_by()
        .values("organisation__sector", "organisation__region")
        .annotate(n=Count("id"), approved=Count("id", filter=Q(status="approved")))
    ):
        for dimension, code in (
            ("sector", row["organisation__sector"]),
            ("region", row["organisation__region"]),
        ):
            target = item(dimension, code or "")
            target.applications += row["n"]
            target.approved += row["approved"]
    for money_row in (
        LedgerEntry.objects.filter(round=fund_round, award__isnull=False)
        .order_by()
        .values(
            "award__application__organisation__sector", "award__application__organisation__region"
        )
        .annotate(
            committed=Sum("amount_pence", filter=Q(kind__in=ledger.COMMITTED_KINDS)),
            paid=Sum("amount_pence", filter=Q(kind__in=ledger.PAID_KINDS)),
        )
    ):
        for dimension, code in (
            ("sector", money_row["award__application__organisation__sector"]),
            ("region", money_row["award__application__organisation__region"]),
        ):
            target = item(dimension, code or "")
            target.committed += int(money_row["committed"] or 0)
            target.paid += int(money_row["paid"] or 0)
    summary.by_sector.extend(sorted(by["sector"].values(), key=lambda b: (-b.applications, b.name)))
    summary.by_region.extend(sorted(by["region"].values(), key=lambda b: (-b.applications, b.name)))
    summary.pending = sum(counts.get(code, 0) for code in DECIDED_OR_ACTIVE)  # type: ignore[attr-defined]
    return summary


APPLICATION_HEADER = [
    "reference",
    "organisation",
    "organisation_reference",
    "sector",
    "region",
    "status",
    "project_title",
    "amount_requested_pounds",
    "submitted_at",
    "decided_at",
    "committed_pounds",
    "paid_pounds",
]


def application_rows(fund_round: FundRound) -> Iterator[list[Any]]:
    form = application_form()
    money = {
        row["award__application_id"]: row
        for row in LedgerEntry.objects.filter(round=fund_round, award__isnull=False)
        .values("award__application_id")
        .annotate(
            committed=Sum("amount_pence", filter=Q(kind__in=ledger.COMMITTED_KINDS)),
            paid=Sum("amount_pence", filter=Q(kind__in=ledger.PAID_KINDS)),
        )
    }
    query = (
        Application.objects.filter(round=fund_round).select_related("organisation").order_by("id")
    )
    for application in query.iterator(chunk_size=1000):
        organisation = application.organisation
        amounts = money.get(application.pk)
        yield [
            application.reference,
            organisation.name,
            organisation.reference,
            organisation.sector,
            organisation.region,
            form.status(application.status).staff_name,
            application.project_title,
            pounds(application.amount_requested_pence),
            application.submitted_at.isoformat() if application.submitted_at else "",
            application.decided_at.isoformat() if application.decided_at else "",
            pounds(amounts.get("committed") or 0) if amounts else "",
            pounds(amounts.get("paid") or 0) if amounts else "",
        ]


LEDGER_HEADER = [
    "entry_id",
    "at",
    "kind",
    "amount_pounds",
    "application_reference",
    "milestone",
    "reason",
    "evidence",
    "recorded_by",
]


def ledger_rows(fund_round: FundRound) -> Iterator[list[Any]]:
    query = (
        LedgerEntry.objects.filter(round=fund_round)
        .select_related("award__application", "milestone", "created_by")
        .order_by("id")
    )
    for entry in query.iterator(chunk_size=1000):
        amount = entry.amount_pence
        yield [
            entry.pk,
            entry.at.isoformat(),
            entry.kind,
            pounds(amount),
            entry.award.application.reference if entry.award else "",
            entry.milestone.title if entry.milestone else "",
            entry.reason,
            entry.evidence,
            entry.created_by.username if entry.created_by else "",
        ]
