"""A small programme and contract world with known figures, and a snapshot of it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone


def make_contract(
    ocid,
    supplier_class,
    value,
    *,
    year=2024,
    buyer="Leeds City Council",
    supplier_organisation=None,
    cpv="85100000",
    reserved=False,
    end=None,
    **extra,
):
    from mutualise.watch.models import WatchedContract

    start = dt.date(year, 4, 1)
    return WatchedContract.objects.create(
        ocid=ocid,
        award_id="1",
        title=f"Community services {ocid}",
        cpv=cpv,
        buyer_name=buyer,
        buyer_identifier="",
        supplier_organisation=supplier_organisation,
        supplier_identifier=extra.pop("supplier_identifier", ""),
        supplier_name=extra.pop("supplier_name", f"Supplier {ocid}"),
        supplier_class=supplier_class,
        value_pence=value,
        award_date=dt.date(year, 3, 1),
        start_date=start,
        end_date=end or dt.date(year + 2, 3, 31),
        reserved=reserved,
        content_hash="x",
        loaded_at=timezone.now(),
        **extra,
    )


@pytest.fixture
def world(db):
    return build_world()


def build_world():
    from mutualise.ambassadors.models import Engagement, ProposedMatch
    from mutualise.fund.models import Application, Award, Fund, FundRound, LedgerEntry
    from mutualise.watch.models import ContractOutcome
    from tests.ambassadors.factories import AmbassadorProfileFactory
    from tests.factories import (
        JourneyFactory,
        OrganisationFactory,
        PublicBodyFactory,
        UserFactory,
    )

    leeds = PublicBodyFactory(name="Leeds City Council", region="yorkshire-humber")
    live = OrganisationFactory(
        name="Leeds Community Health CIC",
        kind="mutual",
        reference="org-001",
        staff_count=250,
        sector="health",
        region="yorkshire-humber",
        parent_body=leeds,
    )
    JourneyFactory(organisation=live, stage="LIVE")
    second = OrganisationFactory(
        name="Care Mutual",
        kind="mutual",
        reference="org-002",
        staff_count=None,
        sector="social-care",
        region="london",
    )
    JourneyFactory(organisation=second, stage="GROW_AND_DIVERSIFY")
    for n, stage in enumerate(["EXPLORE", "EXPLORE", "BUSINESS_CASE"], start=3):
        group = OrganisationFactory(
            name=f"Hidden Group {n}", reference=f"org-00{n}", sector="leisure", region="wales"
        )
        JourneyFactory(organisation=group, stage=stage)

    # contracts: 2024 mutual 100, large 300; 2025 SME 50 + SME 50 (reservable, not reserved)
    make_contract(
        "ocds-a",
        "PUBLIC_SERVICE_MUTUAL",
        100_00,
        supplier_organisation=live,
        end=dt.date(2030, 3, 31),
    )
    make_contract("ocds-b", "LARGE_PRIVATE", 300_00, cpv="72000000")
    old_mutual = make_contract(
        "ocds-c",
        "PUBLIC_SERVICE_MUTUAL",
        80_00,
        year=2021,
        end=dt.date(2024, 3, 31),
        supplier_organisation=live,
    )
    for ocid in ("ocds-d", "ocds-e"):
        make_contract(ocid, "SME", 50_00, year=2025, buyer="Kent County Council")
    lost = make_contract(
        "ocds-f", "PUBLIC_SERVICE_MUTUAL", 70_00, year=2020, end=dt.date(2023, 3, 31)
    )
    ContractOutcome.objects.create(
        contract=old_mutual,
        outcome="RETAINED",
        confidence=0.9,
        reason="same supplier",
        source_rows="",
        as_of=dt.date(2025, 6, 30),
    )
    ContractOutcome.objects.create(
        contract=lost,
        outcome="LOST_TO_LARGE_PRIVATE",
        confidence=0.9,
        reason="went to a large firm",
        source_rows="",
        successor_supplier_name="Big Co",
        successor_class="LARGE_PRIVATE",
        as_of=dt.date(2025, 6, 30),
    )

    officer = UserFactory(username="fund-officer")
    fund = Fund.objects.create(name="Mutuals Support Fund", created_by=officer)
    now = timezone.now()
    fund_round = FundRound.objects.create(
        fund=fund,
        name="Round 1",
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=1),
        maximum_award_pence=2_500_000,
    )
    application = Application.objects.create(round=fund_round, organisation=live, reference="APP-1")
    award = Award.objects.create(
        application=application, round=fund_round, approved_amount_pence=2_000_000
    )
    for kind, amount in (
        ("allocation", 10_000_000),
        ("commitment", 2_000_000),
        ("payment", 500_000),
        ("release", -100_000),
    ):
        LedgerEntry.objects.create(
            round=fund_round,
            award=None if kind == "allocation" else award,
            kind=kind,
            amount_pence=amount,
            reason="test",
        )

    profile = AmbassadorProfileFactory()
    AmbassadorProfileFactory()
    match = ProposedMatch.objects.create(organisation=live, profile=profile, status="accepted")
    Engagement.objects.create(match=match, held_on=dt.date(2025, 2, 1), actions_agreed="Plan")
    Engagement.objects.create(match=match, held_on=dt.date(2025, 5, 1), actions_agreed="Plan")
    return {"live": live}


@pytest.fixture
def snapshot(world):
    from mutualise.evidence.services import refresh_snapshot

    return refresh_snapshot(as_of=dt.date(2025, 6, 30))


@pytest.fixture(autouse=True)
def fresh_evidence_caches():
    from mutualise.evidence import services

    services._current_cache.clear()
    yield
    services._current_cache.clear()


@pytest.fixture(autouse=True)
def fresh_page_cache():
    from mutualise.evidence import views

    views._page_cache.clear()
    yield
    views._page_cache.clear()
