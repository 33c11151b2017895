"""Loading pipeline output is idempotent and incremental; alerts are never sent twice."""

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mutualise.core.models import Notification
from mutualise.organisations.models import OrganisationKind
from mutualise.watch import services
from mutualise.watch.models import Alert, ContractOutcome, Notice, RetenderLink, WatchedContract
from tests.factories import IdentifierFactory, OrganisationFactory, UserFactory, grant

FACT = {
    "ocid": "ocds-a",
    "award_id": "1",
    "process_ocid": "ocds-a",
    "title": "Community health services",
    "cpv_id": "85323000",
    "buyer_identifier": None,
    "buyer_name": "Leeminster Borough Council",
    "buyer_key": "leeminster borough council",
    "supplier_identifier": "GB-COH-1234567",
    "organisation_identifier": None,
    "organisation_name": None,
    "supplier_name": "Health Mutual CIC",
    "supplier_class": "PUBLIC_SERVICE_MUTUAL",
    "value_pence": 300_000_000,
    "award_date": date(2023, 12, 1),
    "start_date": date(2024, 1, 1),
    "end_date": date(2026, 12, 31),
    "original_end_date": date(2026, 12, 31),
    "max_end_date": date(2026, 12, 31),
    "has_renewal": False,
    "extended": False,
    "reserved": False,
    "method_details": "Open procedure",
}


def write(root: Path, name: str, rows: list[dict]) -> None:
    folder = root / "tables" / name
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-0.parquet")


@pytest.fixture
def warehouse(tmp_path):
    old = dict(
        FACT,
        ocid="ocds-old",
        award_id="1",
        award_date=date(2020, 12, 1),
        start_date=date(2021, 1, 1),
        end_date=date(2023, 12, 31),
        original_end_date=date(2023, 12, 31),
        max_end_date=date(2023, 12, 31),
    )
    write(tmp_path, "contract_facts", [FACT, old])
    write(
        tmp_path,
        "retender_links",
        [
            {
                "predecessor_ocid": "ocds-old",
                "predecessor_award_id": "1",
                "successor_ocid": "ocds-a",
                "successor_award_id": "1",
                "confidence": 0.97,
                "evidence": "same buyer",
            }
        ],
    )
    write(
        tmp_path,
        "contract_outcomes",
        [
            {
                "ocid": "ocds-old",
                "award_id": "1",
                "outcome": "RETAINED",
                "confidence": 0.97,
                "reason": "same supplier",
                "source_rows": "contract ocds-old / 1",
                "successor_ocid": "ocds-a",
                "successor_award_id": "1",
                "successor_class": "PUBLIC_SERVICE_MUTUAL",
                "successor_supplier_name": "Health Mutual CIC",
                "as_of": "2026-11-01",
            }
        ],
    )
    write(
        tmp_path,
        "retender_notices",
        [
            {
                "ocid": "ocds-a",
                "award_id": "1",
                "notice_ocid": "ocds-plan",
                "notice_title": "Community health",
                "notice_cpv": "85323000",
                "notice_published": date(2026, 3, 1),
                "notice_stage": "planning",
                "notice_score": 0.8,
                "days_from_end": -300,
                "notice_rank": 1,
            }
        ],
    )
    return tmp_path


@pytest.fixture
def mutual(db):
    organisation = OrganisationFactory(
        kind=OrganisationKind.MUTUAL, annual_income_pence=400_000_000
    )
    IdentifierFactory(organisation=organisation, scheme="GB-COH", value="01234567")
    return organisation


def test_load_links_programme_mutual_and_is_idempotent(warehouse, mutual):
    first = services.load_from_warehouse(warehouse)
    assert (first.created, first.updated, first.outcomes, first.links, first.notices) == (
        2,
        0,
        1,
        1,
        1,
    )
    contract = WatchedContract.objects.get(ocid="ocds-a")
    assert contract.supplier_organisation == mutual  # unpadded GB-COH number matched
    assert contract.value_pence == 300_000_000
    second = services.load_from_warehouse(warehouse)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert WatchedContract.objects.count() == 2 and RetenderLink.objects.count() == 1
    assert ContractOutcome.objects.count() == 1 and Notice.objects.count() == 1


def test_load_is_incremental(warehouse, mutual):
    services.load_from_warehouse(warehouse)
    write(warehouse, "contract_facts", [dict(FACT, end_date=date(2027, 6, 30))])
    again = services.load_from_warehouse(warehouse)
    assert (again.created, again.updated) == (0, 1)
    assert WatchedContract.objects.get(ocid="ocds-a").end_date == date(2027, 6, 30)


def test_missing_warehouse_is_skipped(tmp_path, db):
    assert services.load_from_warehouse(tmp_path / "nothing").skipped


def test_alerts_are_sent_once(warehouse, mutual, django_capture_on_commit_callbacks):
    leader = grant(UserFactory(username="leader"), "mutual_leader", mutual)
    services.load_from_warehouse(warehouse)
    sent = services.send_due_alerts(on=date(2026, 1, 1))  # 11 months before the end
    assert sent == 2  # the 12-month horizon and the planning notice
    assert set(Alert.objects.values_list("event", flat=True)) == {"horizon-12", "notice:ocds-plan"}
    assert services.send_due_alerts(on=date(2026, 1, 1)) == 0
    assert services.send_due_alerts(on=date(2026, 7, 1)) == 1  # the 6-month horizon
    assert Notification.objects.filter(user=leader).count() == 3


def test_risk_and_timeline(warehouse, mutual):
    leader = grant(UserFactory(username="leader2"), "mutual_leader", mutual)
    services.load_from_warehouse(warehouse)
    rows = services.timeline(leader, mutual)
    assert len(rows) >= 1
    row = next(r for r in rows if r.contract.ocid == "ocds-a")
    assert row.risk.level in {"low", "medium", "high"} and row.risk.reasons
    assert row.notices[0].notice_ocid == "ocds-plan"


def test_officer_radar_and_permissions(warehouse, mutual, officer):
    from django.core.exceptions import PermissionDenied

    services.load_from_warehouse(warehouse)
    services.radar(officer)
    stranger = UserFactory(username="stranger")
    with pytest.raises(PermissionDenied):
        services.radar(stranger)
    with pytest.raises(PermissionDenied):
        services.timeline(stranger, mutual)


def _contract(ocid, **fields):
    values = {
        "award_id": "1",
        "title": "Community health services",
        "cpv": "85323000",
        "buyer_name": "Leeminster Borough Council",
        "buyer_key": "leeminster borough council",
        "supplier_identifier": "GB-COH-1234567",
        "supplier_name": "Health Mutual CIC",
        "content_hash": ocid,
        "loaded_at": date(2025, 1, 1),
        **fields,
    }
    return WatchedContract.objects.create(ocid=ocid, **values)


@pytest.mark.django_db
def test_rows_read_other_contracts_once_and_agree_with_one_at_a_time(django_assert_max_num_queries):
    lost = _contract("ocds-lost", cpv="85100000", supplier_identifier="GB-COH-99999999")
    ContractOutcome.objects.create(
        contract=lost,
        outcome="LOST_TO_LARGE_PRIVATE",
        confidence=0.9,
        reason="r",
        source_rows="",
        as_of=date(2025, 1, 1),
    )
    _contract("ocds-reserved", reserved=True, award_date=date(2021, 5, 1))
    same_service = _contract("ocds-now", end_date=date(2027, 3, 1), start_date=date(2024, 3, 1))
    other_buyer = _contract("ocds-else", buyer_key="another council", cpv="85100000")
    contracts = [same_service, other_buyer, lost]
    others = services.OtherContracts.of(contracts)
    with django_assert_max_num_queries(0):
        batched = [services.large_firm_history(c, others) for c in contracts]
        prior = [services.next_reservation(c, others=others) for c in contracts]
    assert batched == [services.large_firm_history(c) for c in contracts] == [True, False, False]
    alone = [services.next_reservation(c) for c in contracts]
    assert [p and p.eligible for p in prior] == [a and a.eligible for a in alone]
    assert others.reserved_awards[("GB-COH-1234567", "leeminster borough council")]


@pytest.mark.django_db
def test_a_title_with_nul_characters_loads_on_every_database(tmp_path):
    """PostgreSQL refuses U+0000 in text; open data sometimes has it inside a title."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mutualise.watch.services import load_from_warehouse

    folder = tmp_path / "tables" / "contract_facts"
    folder.mkdir(parents=True)
    rows = [
        {
            "ocid": "ocds-b5fd17-nul",
            "award_id": "1",
            "title": "Community\x00 nursing",
            "supplier_name": "Health\x00 Mutual CIC",
            "buyer_name": "Leeminster Borough Council",
        }
    ]
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-0.parquet")
    summary = load_from_warehouse(tmp_path)
    assert summary.created == 1
    contract = WatchedContract.objects.get(ocid="ocds-b5fd17-nul")
    assert contract.title == "Community nursing" and contract.supplier_name == "Health Mutual CIC"
