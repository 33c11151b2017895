"""Pure metric tests on small hand-made tables with known answers (no database)."""

from __future__ import annotations

import pandas as pd
import pytest

from mutualise.evidence import metrics
from mutualise.evidence.metrics import Filters, format_pence, format_rate, present

STAGES = pd.DataFrame(
    [
        {"code": "EXPLORE", "name": "Explore", "group": "pipeline", "position": 0},
        {"code": "BUSINESS_CASE", "name": "Business case", "group": "pipeline", "position": 1},
        {"code": "LIVE", "name": "Live", "group": "live", "position": 2},
        {"code": "WITHDRAWN", "name": "Withdrawn", "group": "withdrawn", "position": 3},
    ]
)
ORGANISATIONS = pd.DataFrame(
    [
        {
            "id": 1,
            "name": "Alpha Health",
            "reference": "org-001",
            "kind": "mutual",
            "stage": "LIVE",
            "sector": "health",
            "region": "london",
            "staff_count": 120,
            "annual_income_pence": None,
        },
        {
            "id": 2,
            "name": "Beta Care",
            "reference": "org-002",
            "kind": "mutual",
            "stage": "LIVE",
            "sector": "social-care",
            "region": "london",
            "staff_count": None,
            "annual_income_pence": None,
        },
        {
            "id": 3,
            "name": "Secret Group",
            "reference": "org-003",
            "kind": "staff_group",
            "stage": "EXPLORE",
            "sector": "health",
            "region": "wales",
            "staff_count": 40,
            "annual_income_pence": None,
        },
        {
            "id": 4,
            "name": "Gamma",
            "reference": "org-004",
            "kind": "staff_group",
            "stage": "BUSINESS_CASE",
            "sector": "",
            "region": "",
            "staff_count": None,
            "annual_income_pence": None,
        },
        {
            "id": 5,
            "name": "Delta",
            "reference": "org-005",
            "kind": "staff_group",
            "stage": "WITHDRAWN",
            "sector": "leisure",
            "region": "wales",
            "staff_count": None,
            "annual_income_pence": None,
        },
        {
            "id": 6,
            "name": "No journey",
            "reference": "org-006",
            "kind": "mutual",
            "stage": "",
            "sector": "leisure",
            "region": "wales",
            "staff_count": 10,
            "annual_income_pence": None,
        },
    ]
)


def contract(ocid, year, supplier_class, value, **extra):
    row = {
        "ocid": ocid,
        "award_id": "1",
        "title": f"Contract {ocid}",
        "buyer": "Leeds Council",
        "buyer_identifier": "",
        "supplier": f"Supplier {ocid}",
        "supplier_class": supplier_class,
        "cpv": "85100000",
        "award_date": pd.Timestamp(f"{year}-06-01"),
        "start_date": None,
        "end_date": None,
        "value_pence": value,
        "reserved": False,
        "reservable": False,
        "sector": "health",
        "region": "yorkshire-humber",
        "supplier_reference": "",
    }
    row.update(extra)
    return row


def tables(**extra):
    base = {
        "journey_stages": STAGES,
        "organisations": ORGANISATIONS,
        "snapshot_info": pd.DataFrame({"as_of": ["2025-06-30"]}),
    }
    base.update(extra)
    return base


def table_of(result, view=None, filters=None, threshold=None):
    presented = present(result.metric, result.cube, filters or Filters(), view, threshold=threshold)
    return {tuple(r.keys.values()): {c.column: c for c in r.cells} for r in presented.rows}


def test_mutuals_by_stage_counts_each_journey_once_in_its_group():
    result = metrics.compute(metrics.get_metric("mutuals-by-stage"), tables())
    by_stage = table_of(result)
    assert {k: v["organisations"].value for k, v in by_stage.items()} == {
        ("BUSINESS_CASE",): 1,
        ("EXPLORE",): 1,
        ("LIVE",): 2,
        ("WITHDRAWN",): 1,
    }
    totals = present(result.metric, result.cube).totals
    assert totals == {"organisations": 5, "live": 2, "pipeline": 2}


def test_staff_groups_still_deciding_are_not_named():
    rows = metrics.journey_rows(tables())
    assert "Secret Group" not in set(rows["organisation"])
    assert "Staff group org-003" in set(rows["organisation"])
    assert "Alpha Health" in set(rows["organisation"])


def test_staff_employed_shows_how_many_mutuals_reported():
    result = metrics.compute(metrics.get_metric("staff-employed"), tables())
    totals = present(result.metric, result.cube).totals
    assert totals == {"staff": 120, "mutuals": 2, "staff_count_reported": 1}


def test_filters_select_by_sector_and_region():
    result = metrics.compute(metrics.get_metric("mutuals-by-stage"), tables())
    presented = present(result.metric, result.cube, Filters(region="wales"))
    assert presented.totals["organisations"] == 2
    presented = present(result.metric, result.cube, Filters(sector="health"))
    assert presented.totals == {"organisations": 2, "live": 1, "pipeline": 1}


def test_empty_tables_say_no_data_yet():
    results = metrics.compute_all({"snapshot_info": pd.DataFrame({"as_of": ["2025-01-01"]})})
    for result in results.values():
        assert not result.has_data
        assert result.note.startswith("No data yet")
        assert present(result.metric, result.cube).rows == []


def test_contract_share_is_value_over_the_year_total():
    contracts = pd.DataFrame(
        [
            contract("a", 2024, "PUBLIC_SERVICE_MUTUAL", 100_00),
            contract("b", 2024, "LARGE_PRIVATE", 300_00),
            contract("c", 2025, "SME", 50_00),
            contract("d", 2025, "SME", 50_00),
            contract("e", 2025, None, 0),
        ]
    )
    result = metrics.compute(metrics.get_metric("contract-share"), tables(contracts=contracts))
    table = table_of(result)
    assert table[(2024, "PUBLIC_SERVICE_MUTUAL")]["share_of_value"].value == 0.25
    assert table[(2024, "LARGE_PRIVATE")]["share_of_value"].value == 0.75
    assert table[(2025, "SME")]["share_of_value"].value == 1.0
    assert table[(2025, "SME")]["contracts"].value == 2
    assert table[(2025, "UNKNOWN")]["value_pence"].value == 0
    assert table[(2024, "LARGE_PRIVATE")]["value_pence"].text == "£300"


def test_year_range_and_buyer_filters():
    contracts = pd.DataFrame(
        [
            contract("a", 2023, "SME", 10),
            contract("b", 2024, "SME", 20, buyer="Kent County Council"),
            contract("c", 2025, "SME", 40),
        ]
    )
    result = metrics.compute(metrics.get_metric("contract-share"), tables(contracts=contracts))
    presented = present(result.metric, result.cube, Filters(year_from=2024, year_to=2025))
    assert presented.totals["value_pence"] == 60
    presented = present(result.metric, result.cube, Filters(buyer="kent"))
    assert presented.totals["value_pence"] == 20


def outcome(ocid, supplier_class, result, value=1000, year=2024):
    return {
        "ocid": ocid,
        "award_id": "1",
        "title": "t",
        "buyer": "Leeds Council",
        "buyer_identifier": "",
        "supplier": "s",
        "supplier_class": supplier_class,
        "cpv": "85100000",
        "end_date": pd.Timestamp(f"{year}-03-31"),
        "value_pence": value,
        "outcome": result,
        "successor_supplier": "",
        "successor_class": "",
        "as_of": "2025-06-30",
        "sector": "health",
        "region": "yorkshire-humber",
    }


def test_retention_rate_shows_counts_and_suppresses_small_groups():
    outcomes = pd.DataFrame(
        [outcome(f"m{i}", "PUBLIC_SERVICE_MUTUAL", "RETAINED") for i in range(3)]
        + [
            outcome("m9", "PUBLIC_SERVICE_MUTUAL", "LOST_TO_LARGE_PRIVATE"),
            outcome("m10", "PUBLIC_SERVICE_MUTUAL", "PENDING"),
        ]
        + [outcome(f"s{i}", "SME", "RETAINED") for i in range(6)]
        + [outcome(f"s{i + 6}", "SME", "INSOURCED") for i in range(4)]
    )
    result = metrics.compute(
        metrics.get_metric("retender-outcomes"), tables(contract_outcomes=outcomes)
    )
    table = table_of(result)
    mutual = table[("PUBLIC_SERVICE_MUTUAL",)]
    assert mutual["contracts"].value == 5
    assert mutual["decided"].value == 4  # PENDING is not decided
    rate = mutual["retention_rate"]
    assert (rate.numerator, rate.denominator, rate.suppressed, rate.value) == (3, 4, True, None)
    assert rate.text == "3 of 4 (too few to give a percentage)"
    sme = table[("SME",)]["retention_rate"]
    assert (sme.value, sme.text) == (0.6, "6 of 10 (60%)")


def test_captured_counts_only_losses_to_large_firms_from_smaller_incumbents():
    outcomes = pd.DataFrame(
        [
            outcome("a", "PUBLIC_SERVICE_MUTUAL", "LOST_TO_LARGE_PRIVATE", 500, 2023),
            outcome("b", "SME", "LOST_TO_LARGE_PRIVATE", 700, 2024),
            outcome("c", "LARGE_PRIVATE", "LOST_TO_LARGE_PRIVATE", 900, 2024),
            outcome("d", "PUBLIC_SERVICE_MUTUAL", "RETAINED", 100, 2024),
        ]
    )
    result = metrics.compute(
        metrics.get_metric("captured-by-large-firms"), tables(contract_outcomes=outcomes)
    )
    table = table_of(result)
    assert table[(2023,)]["captured"].value == 1
    assert table[(2023,)]["captured_value_pence"].value == 500
    assert table[(2024,)]["captured"].value == 1
    assert table[(2024,)]["captured_value_pence"].value == 700


def test_reservations_count_reserved_and_could_have_been_reserved():
    contracts = pd.DataFrame(
        [
            contract("a", 2024, "PUBLIC_SERVICE_MUTUAL", 10, reserved=True, reservable=True),
            contract("b", 2024, "LARGE_PRIVATE", 10, reservable=True),
            contract("c", 2024, "SME", 10, reservable=True),
            contract("d", 2024, "LARGE_PRIVATE", 10, reservable=False),
        ]
    )
    result = metrics.compute(metrics.get_metric("reservations"), tables(contracts=contracts))
    row = table_of(result)[(2024,)]
    assert row["contracts"].value == 4
    assert row["reserved"].value == 1
    assert row["could_have_been_reserved"].value == 2
    assert row["could_have_been_reserved_won_by_large_firm"].value == 1


def test_fund_money_committed_and_paid_from_the_ledger():
    ledger = pd.DataFrame(
        [
            {
                "id": 1,
                "at": pd.Timestamp("2025-01-01", tz="UTC"),
                "fund": "F",
                "round": "F: R1",
                "award": "",
                "organisation": "",
                "kind": "allocation",
                "amount_pence": 1_000_000,
                "sector": None,
                "region": None,
            },
            {
                "id": 2,
                "at": pd.Timestamp("2025-02-01", tz="UTC"),
                "fund": "F",
                "round": "F: R1",
                "award": "A1",
                "organisation": "Alpha",
                "kind": "commitment",
                "amount_pence": 50_000,
                "sector": "health",
                "region": "london",
            },
            {
                "id": 3,
                "at": pd.Timestamp("2025-03-01", tz="UTC"),
                "fund": "F",
                "round": "F: R1",
                "award": "A1",
                "organisation": "Alpha",
                "kind": "release",
                "amount_pence": -10_000,
                "sector": "health",
                "region": "london",
            },
            {
                "id": 4,
                "at": pd.Timestamp("2025-04-01", tz="UTC"),
                "fund": "F",
                "round": "F: R1",
                "award": "A1",
                "organisation": "Alpha",
                "kind": "payment",
                "amount_pence": 30_000,
                "sector": "health",
                "region": "london",
            },
            {
                "id": 5,
                "at": pd.Timestamp("2025-05-01", tz="UTC"),
                "fund": "F",
                "round": "F: R1",
                "award": "A1",
                "organisation": "Alpha",
                "kind": "clawback",
                "amount_pence": -5_000,
                "sector": "health",
                "region": "london",
            },
        ]
    )
    result = metrics.compute(metrics.get_metric("fund-money"), tables(fund_ledger=ledger))
    row = table_of(result)[("F: R1",)]
    assert row["committed_pence"].value == 40_000
    assert row["paid_pence"].value == 25_000
    assert row["committed_pence"].text == "£400"


def test_ambassadors_active_rate():
    ambassadors = pd.DataFrame(
        [
            {"id": i, "name": f"A{i}", "active_groups": 1 if i < 2 else 0, "engagements": i}
            for i in range(3)
        ]
    )
    result = metrics.compute(metrics.get_metric("ambassadors"), tables(ambassadors=ambassadors))
    row = table_of(result)[()]
    assert row["ambassadors"].value == 3
    assert row["active"].value == 2
    assert row["active_rate"].text == "2 of 3 (too few to give a percentage)"


@pytest.mark.parametrize(
    ("numerator", "denominator", "text"),
    [
        (0, 0, "0 of 0 (no cases)"),
        (1, 1, "1 of 1 (too few to give a percentage)"),
        (4, 5, "4 of 5 (80%)"),
        (1234, 2000, "1,234 of 2,000 (62%)"),
    ],
)
def test_format_rate(numerator, denominator, text):
    assert format_rate(numerator, denominator, 5)[0] == text


def test_format_pence_is_exact():
    assert format_pence(123456) == "£1,234.56"
    assert format_pence(100) == "£1"
    assert format_pence(-250) == "-£2.50"


def test_sector_for_cpv_takes_the_longest_prefix():
    assert metrics.sector_for_cpv("85323000") == "health"
    assert metrics.sector_for_cpv("85311300") == "childrens-services"
    assert metrics.sector_for_cpv("85311000") == "social-care"
    assert metrics.sector_for_cpv("72000000") == "other"
    assert metrics.sector_for_cpv("") == metrics.NOT_KNOWN


def test_every_figure_sums_back_over_its_rows():
    """Pure version of the rows-behind check: select the row table by each figure's keys."""
    contracts = pd.DataFrame(
        [
            contract(
                str(i),
                2020 + i % 4,
                ["SME", "LARGE_PRIVATE"][i % 2],
                i * 100,
                reservable=i % 3 == 0,
            )
            for i in range(40)
        ]
    )
    outcomes = pd.DataFrame(
        [
            outcome(
                str(i),
                ["SME", "PUBLIC_SERVICE_MUTUAL"][i % 2],
                ["RETAINED", "LOST_TO_LARGE_PRIVATE", "PENDING"][i % 3],
                year=2020 + i % 3,
            )
            for i in range(30)
        ]
    )
    results = metrics.compute_all(tables(contracts=contracts, contract_outcomes=outcomes))
    checked = 0
    for result in results.values():
        for view in result.metric.views:
            presented = present(result.metric, result.cube, Filters(), view.key)
            for row in presented.rows:
                behind = metrics.select(result.rows, result.metric, Filters(), row.keys)
                for cell in row.cells:
                    if cell.denominator is None:
                        assert int(behind[cell.measure].sum()) == cell.value
                        checked += 1
    assert checked > 50
