"""The analytics tables: typed columns, provenance, normalised codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pyarrow as pa

from mutualise.pipeline.compile import compile_releases
from mutualise.pipeline.flatten import flatten
from mutualise.pipeline.ingest import ingest
from mutualise.pipeline.sql import sql
from mutualise.pipeline.typed import decimal
from mutualise.pipeline.warehouse import ANALYTICS_TABLES, Warehouse


def test_every_table_is_written_with_provenance(built_warehouse: Path) -> None:
    warehouse = Warehouse(built_warehouse)
    for name in ANALYTICS_TABLES:
        table = warehouse.table(name)
        assert {"ocid", "sources", "release_ids"} <= set(table.column_names), name
        assert not any(pa.types.is_large_string(f.type) for f in table.schema)
    assert sql("SELECT count(*) AS n FROM processes", built_warehouse).column("n")[0].as_py() >= 380


def test_types_and_values(built_warehouse: Path) -> None:
    awards = Warehouse(built_warehouse).table("awards")
    assert awards.schema.field("date").type == pa.timestamp("us", tz="UTC")
    assert awards.schema.field("value_amount").type == pa.float64()
    row = sql(
        "SELECT value_amount, value_amount_pence, value_currency, contract_period_end_date FROM awards "
        "WHERE award_id = 'ocds-b5fd17-e3b5f385-5989-4cf1-8849-01c247fc9c30-1'",
        built_warehouse,
    ).to_pylist()[0]
    assert row["value_amount"] == 93007 and row["value_amount_pence"] == 9300700
    assert row["value_currency"] == "GBP"
    # "2025-04-23T23:59:59+01:00" in UTC
    assert row["contract_period_end_date"] == dt.datetime(2025, 4, 23, 22, 59, 59, tzinfo=dt.UTC)
    suppliers = sql(
        "SELECT count(*) AS n, count(identifier_id) AS with_id FROM award_suppliers",
        built_warehouse,
    ).to_pylist()[0]
    assert suppliers["n"] > 0 and 0 < suppliers["with_id"] <= suppliers["n"]


def test_reserved_participation_is_normalised(tmp_path: Path) -> None:
    base = {"ocid": "ocds-x-1", "id": "1", "date": "2025-01-01T00:00:00Z", "tag": ["tender"]}
    tender = {
        "id": "t",
        "otherRequirements": {"reservedParticipation": ["publicServiceMissionOrganization"]},
        "lots": [
            {
                "id": "1",
                "hasRenewal": True,
                "renewal": {"description": "1 year", "period": {"maxExtentDate": "2030-01-01"}},
                "contractPeriod": {"durationInMonths": 24},
            },
            {
                "id": "2",
                "otherRequirements": {"reservedParticipation": ["shelteredWorkshop", "smeVcse"]},
            },
        ],
        "items": [
            {
                "id": "i",
                "relatedLot": "1",
                "classification": {"scheme": "CPV", "id": "85000000"},
                "additionalClassifications": [{"scheme": "CPV", "id": "85300000"}],
            }
        ],
    }
    path = tmp_path / "in.jsonl"
    path.write_bytes(orjson.dumps({**base, "tender": tender}) + b"\n")
    ingest([path], tmp_path / "wh")
    compile_releases(tmp_path / "wh")
    flatten(tmp_path / "wh")
    lots = {row["lot_id"]: row for row in Warehouse(tmp_path / "wh").table("lots").to_pylist()}
    assert lots["1"]["reserved_participation"] == ["publicService"]
    assert lots["2"]["reserved_participation"] == ["shelteredWorkshop", "smeVcse"]
    assert (lots["1"]["cpv_id"], lots["1"]["additional_cpv_ids"]) == ("85000000", ["85300000"])
    assert lots["1"]["contract_period_duration_in_months"] == 24
    assert lots["1"]["renewal_max_extent_date"] == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    tenders = Warehouse(tmp_path / "wh").table("tenders").to_pylist()
    assert tenders[0]["reserved_participation"] == ["publicService"]


def test_amounts_written_as_text() -> None:
    assert decimal("25 000") == 25000
    assert decimal("1 000,50") == decimal("1000.50")
    assert decimal(float("inf")) is None and decimal(True) is None


def test_the_edge_shares_row_groups_by_rows() -> None:
    """Row groups of alternating sizes (as compile writes a partition's rows and then the rest)
    are shared so that each worker gets about as many rows, in the order they are stored."""
    from mutualise.pipeline.flatten import _balanced

    groups = [("a.parquet", index, 10_000 if index % 2 == 0 else 700) for index in range(20)]
    shares = _balanced(groups, 2)
    rows = [sum(group[2] for group in share) for share in shares]
    assert sum(rows) == 107_000 and max(rows) - min(rows) <= 10_000
    assert all(share == sorted(share) for share in shares)
    assert sorted(group for share in shares for group in share) == groups
