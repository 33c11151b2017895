"""Demo data for the support fund, created through fund.services (so the ledger, the audit log and
the notifications are exactly what real use would produce). Safe to run twice: if the demo funds
exist, nothing happens.

Two funds: the Mutuals Support Fund (a decided round, a closed round being assessed, an open
round) and the Mutuals Interim Support Fund (a decided round and an open round)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mutualise.core.models import User
from mutualise.fund import services
from mutualise.fund.models import Application, Fund
from mutualise.fund.services import Refused
from mutualise.organisations.models import Organisation

FUNDS = ("Mutuals Support Fund", "Mutuals Interim Support Fund")


def _answers(rng: random.Random, organisation: Organisation, *, eligible: bool) -> dict[str, Any]:
    amount = rng.randrange(5_000, 25_001, 500) * 100
    cost = amount + rng.randrange(2_000, 15_001, 500) * 100
    live = organisation.kind == "mutual"
    answers: dict[str, Any] = {
        "delivers_in_england": "yes" if eligible or rng.random() < 0.5 else "no",
        "mutual_status": "is_mutual" if live else "intends_to_become",
        "is_live": "yes" if live else "no",
        "project_title": rng.choice(
            [
                "Business plan and financial model",
                "Legal advice on staff ownership",
                "Bid-writing support for the re-tender",
                "Pensions and TUPE advice",
                "Diversifying into private-pay services",
            ]
        ),
        "services_and_delivery_model": f"{organisation.name} delivers {organisation.sector_label.lower()} "
        f"services in {organisation.region_label}.",
        "growth_case": "The advice will let us write a credible business plan, price new contracts, "
        "and win work beyond our parent body so that the mutual grows and diversifies its income.",
        "senior_sponsor": rng.choice(
            ["Director of Adult Services", "Chief Nurse", "Head of Children's Services"]
        ),
        "amount_requested": amount,
        "project_cost": cost,
        "cash_match": cost - amount,
        "subsidy_received": 0,
    }
    if live:
        go_live = organisation.spun_out_on or (timezone.localdate() - dt.timedelta(days=700))
        answers["go_live_date"] = go_live.isoformat()
        answers["contract_retendered"] = "no"
    return answers


def _applicant(org: Organisation) -> User | None:
    for suffix in ("member", "leader"):
        user = User.objects.filter(username=f"{org.reference}-{suffix}").first()
        if user is not None:
            return user
    return None


def _apply(
    officer: User,
    fund_round: Any,
    org: Organisation,
    applicant: User,
    rng: random.Random,
    *,
    submit: bool,
) -> Application | None:
    try:
        application = services.start_application(
            actor=applicant, fund_round=fund_round, organisation=org
        )
        for slug, value in _answers(rng, org, eligible=True).items():
            application = services.save_answer(
                actor=applicant, application=application, slug=slug, value=value
            )
        if submit:
            application = services.submit_application(
                actor=applicant,
                application=application,
                declaration_name=applicant.display_name,
                confirmed=True,
            )
    except Refused:
        return None
    return application


def _assess(
    officer: User, application: Application, assessors: list[User], rng: random.Random
) -> bool:
    for assessor in rng.sample(assessors, len(assessors)):
        try:
            assignment = services.assign_assessor(
                actor=officer, application=application, assessor=assessor
            )
        except Refused:
            continue
        criteria = list(application.round.criteria.all())
        services.save_scores(
            actor=assessor,
            assignment=assignment,
            scores={
                c.pk: (rng.randint(2, 5), "Scored against the published guidance.")
                for c in criteria
            },
            overall_comment="",
            complete=True,
        )
        return True
    return False


def seed_demo(programme: dict, seed: int) -> None:
    if Fund.objects.filter(name__in=FUNDS).exists():
        return
    rng = random.Random(seed)
    officer = (
        User.objects.filter(username__in=[o["key"] for o in programme.get("officers", [])])
        .order_by("username")
        .first()
    )
    if officer is None:
        return
    assessors = list(
        User.objects.filter(username__in=[a["key"] for a in programme.get("assessors", [])])
    )
    keys = [
        o["key"]
        for o in programme.get("organisations", [])
        if o.get("kind") in {"staff_group", "mutual"}
    ]
    candidates = [
        (org, _applicant(org))
        for org in Organisation.objects.filter(
            reference__in=keys, kind__in=["staff_group", "mutual"]
        ).order_by("reference")
    ]
    organisations = [(org, user) for org, user in candidates if user is not None]
    if not organisations:
        return
    now = timezone.now()
    base = {
        "eligibility_rules": ["E1", "E2", "E3", "E4", "E5", "E6"],
        "min_match_share_percent": Decimal("10"),
        "subsidy_cap_pence": 31_500_000,
    }
    msf = services.create_fund(
        actor=officer,
        name=FUNDS[0],
        description=(
            "Buys professional advice – business planning, legal and financial – for staff groups "
            "and new mutuals. Single awards up to £100,000."
        ),
    )
    misf = services.create_fund(
        actor=officer,
        name=FUNDS[1],
        description=(
            "Grants up to £25,000 to buy advice. The applicant procures its own advisers."
        ),
    )
    plans = [
        (msf, "Round 1 2025", 50_000_000, 10_000_000, "decided", 0.45),
        (msf, "Round 2 2026", 40_000_000, 10_000_000, "closed", 0.30),
        (msf, "Round 3 2027", 60_000_000, 10_000_000, "open", 0.25),
        (misf, "Interim round 2025", 20_000_000, 2_500_000, "decided", 0.35),
        (misf, "Interim round 2027", 20_000_000, 2_500_000, "open", 0.25),
    ]
    pool = list(organisations)
    for fund, name, budget, maximum, state, share in plans:
        fund_round = services.create_round(
            actor=officer,
            fund=fund,
            name=name,
            budget_pence=budget,
            maximum_award_pence=maximum,
            opens_at=now - dt.timedelta(days=30),
            closes_at=now + dt.timedelta(days=45),
            **base,
        )
        chosen = rng.sample(pool, max(2, int(len(pool) * share)))
        applications = []
        for index, (org, applicant) in enumerate(chosen):
            draft_only = state == "open" and index % 3 == 0
            application = _apply(officer, fund_round, org, applicant, rng, submit=not draft_only)
            if application is not None and not draft_only:
                applications.append(application)
        for index, application in enumerate(applications):
            if state == "open" and index % 2 == 0:
                continue  # left submitted, waiting for an assessor
            if not _assess(officer, application, assessors, rng):
                continue
            application = Application.objects.get(pk=application.pk)
            if state == "closed" and index % 3 != 0:
                continue  # still being assessed
            if state == "open":
                continue
            if state == "closed":
                services.request_more_information(
                    actor=officer,
                    application=application,
                    question="Please send the adviser's quote for the legal work.",
                )
                continue
            if index % 4 == 3:
                services.reject_application(
                    actor=officer,
                    application=application,
                    reasons=("The case for growth does not show how the advice leads to new work."),
                )
                continue
            amount = min(application.amount_requested_pence or 0, maximum)
            try:
                award = services.approve_application(
                    actor=officer, application=application, amount_pence=amount
                )
            except Refused:
                services.reject_application(
                    actor=officer,
                    application=application,
                    reasons="The round's budget is fully committed.",
                )
                continue
            first = services.add_milestone(
                actor=officer, award=award, title="Adviser appointed", amount_pence=amount // 2
            )
            services.add_milestone(
                actor=officer,
                award=award,
                title="Business plan delivered",
                amount_pence=amount - amount // 2,
            )
            services.record_payment(
                actor=officer,
                award=award,
                milestone=first,
                amount_pence=amount // 2,
                evidence="Signed engagement letter and first invoice.",
            )
            if index % 5 == 4:
                services.reduce_award(
                    actor=officer,
                    award=award,
                    amount_pence=amount // 10,
                    reason="The adviser's final quote was lower.",
                )
        if state in {"decided", "closed"}:
            opens = now - dt.timedelta(days=420 if state == "decided" else 120)
            services.update_round(
                actor=officer,
                fund_round=fund_round,
                opens_at=opens,
                closes_at=now - dt.timedelta(days=330 if state == "decided" else 10),
            )
