"""Factories and helpers for the support fund tests. Everything goes through fund.services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mutualise.fund import services
from mutualise.fund.models import Application, Fund, FundRound
from tests.factories import OrganisationFactory, UserFactory, grant

GOOD_ANSWERS: dict[str, Any] = {
    "delivers_in_england": "yes",
    "mutual_status": "intends_to_become",
    "is_live": "no",
    "project_title": "Business plan for our community health mutual",
    "services_and_delivery_model": "Community nursing delivered in three localities.",
    "growth_case": " ".join(["We will buy legal and financial advice to win new contracts"] * 3),
    "senior_sponsor": "Jane Smith, Director of Community Services",
    "amount_requested": 2_000_000,
    "project_cost": 2_500_000,
    "cash_match": 500_000,
    "subsidy_received": 0,
}


def make_fund(officer, name: str = "Mutuals Support Fund") -> Fund:
    existing = Fund.objects.filter(name=name).first()
    return existing or services.create_fund(actor=officer, name=name)


def make_round(
    officer,
    *,
    fund: Fund | None = None,
    name: str = "Round 1",
    budget_pence: int = 10_000_000,
    maximum_award_pence: int = 2_500_000,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    **extra: Any,
) -> FundRound:
    now = timezone.now()
    fields: dict[str, Any] = {
        "name": name,
        "opens_at": opens_at or now - dt.timedelta(days=10),
        "closes_at": closes_at or now + dt.timedelta(days=20),
        "budget_pence": budget_pence,
        "maximum_award_pence": maximum_award_pence,
        "eligibility_rules": ["E1", "E2", "E3", "E4", "E5", "E6"],
        "min_match_share_percent": Decimal("10"),
        "subsidy_cap_pence": 20_000_000,
    }
    fields.update(extra)
    return services.create_round(actor=officer, fund=fund or make_fund(officer), **fields)


def make_applicant(organisation=None, username: str | None = None):
    organisation = organisation or OrganisationFactory()
    user = UserFactory(**({"username": username} if username else {}))
    grant(user, "staff_group_member", organisation)
    return user, organisation


def make_application(
    officer,
    fund_round: FundRound,
    *,
    answers: dict | None = None,
    status: str = "submitted",
    applicant=None,
    organisation=None,
    assessor=None,
) -> Application:
    """An application driven through the services up to ``status``."""
    if applicant is None:
        applicant, organisation = make_applicant(organisation)
    application = services.start_application(
        actor=applicant, fund_round=fund_round, organisation=organisation
    )
    for slug, value in {**GOOD_ANSWERS, **(answers or {})}.items():
        application = services.save_answer(
            actor=applicant, application=application, slug=slug, value=value
        )
    if status == "draft":
        return application
    application = services.submit_application(
        actor=applicant, application=application, declaration_name="A Person", confirmed=True
    )
    if status == "submitted":
        return application
    if assessor is None:
        assessor = grant(UserFactory(), "assessor")
    services.assign_assessor(actor=officer, application=application, assessor=assessor)
    return Application.objects.get(pk=application.pk)
