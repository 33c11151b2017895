"""A small programme and contract world with known figures, and a snapshot of it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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


# The world and its snapshot take seconds to build and most tests only read them, so each test
# module builds them once (`shared_snapshot`) inside a transaction rolled back when the module
# ends. Every test still runs in its own savepoint (pytest-django's `db`), so nothing a test
# writes reaches the next. Tests that need an empty database or build their own `world` run
# first in their module (see pytest_collection_modifyitems), before the shared world exists.
SHARED = "shared_snapshot"
_shared_active: dict[str, bool] = {"active": False}


@pytest.fixture(scope="module")
def shared_snapshot(django_db_setup, django_db_blocker):
    from django.db import transaction

    from mutualise.evidence.services import refresh_snapshot

    with django_db_blocker.unblock(), transaction.atomic():
        try:
            build_world()
            snapshot = refresh_snapshot(as_of=dt.date(2025, 6, 30))
            _shared_active["active"] = True
            yield snapshot.snapshot_id
        finally:
            _shared_active["active"] = False
            transaction.set_rollback(True)


@pytest.fixture
def snapshot(db, shared_snapshot):
    from mutualise.evidence.models import Snapshot

    return Snapshot.objects.get(snapshot_id=shared_snapshot)


@pytest.fixture(autouse=True)
def _shared_world_only_where_asked(request):
    """Fail loudly if a test that expects its own database state runs beside the shared world."""
    if _shared_active["active"] and SHARED not in request.fixturenames:
        pytest.fail(
            f"{request.node.nodeid} runs while this module's shared snapshot is in the database; "
            "tests/evidence/conftest.py orders such tests first in their module"
        )


def pytest_collection_modifyitems(items):
    """Within each evidence module, move the tests that do not use the shared snapshot first."""
    here = Path(__file__).parent
    positions: dict[Path, list[int]] = {}
    for index, item in enumerate(items):
        if item.path.parent == here:
            positions.setdefault(item.path, []).append(index)
    for indices in positions.values():
        module_items = [items[i] for i in indices]
        module_items.sort(key=lambda item: SHARED in getattr(item, "fixturenames", ()))
        for index, item in zip(indices, module_items, strict=True):
            items[index] = item


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
