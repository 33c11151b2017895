"""`mutualise reservation check` prints the verdict and exits 0, 1 or 2."""

from typer.testing import CliRunner

from mutualise.cli import app

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, ["reservation", "check", *args])
    result.text = " ".join(result.output.split())  # as read, without the terminal's wrapping
    return result


def test_eligible_exits_0():
    result = run(
        "--cpv",
        "85323000-9",
        "--max-term-months",
        "36",
        "--award-date",
        "2025-02-23",
        "--procedure",
        "open",
    )
    assert result.exit_code == 0, result.output
    assert "ELIGIBLE" in result.output and "regulation 77" in result.output


def test_not_eligible_exits_1_and_names_each_failure():
    result = run(
        "--cpv",
        "85323001",
        "--cpv",
        "85311000",
        "--max-term-months",
        "37",
        "--award-date",
        "2025-02-23",
    )
    assert result.exit_code == 1
    assert (
        "NOT ELIGIBLE" in result.output
        and "85323001" in result.output
        and "37 months" in result.output
    )


def test_s33_without_cpv_list_exits_1():
    result = run(
        "--cpv",
        "85323000",
        "--max-term-months",
        "60",
        "--award-date",
        "2025-02-24",
        "--procedure",
        "competitive flexible",
    )
    assert result.exit_code == 1 and "not loaded" in result.output


def test_bad_input_exits_2():
    assert (
        run("--cpv", "853", "--max-term-months", "36", "--award-date", "2025-02-23").exit_code == 2
    )
    assert (
        run("--cpv", "85323000", "--max-term-months", "36", "--award-date", "23/02/25").exit_code
        == 2
    )


def _arrow_type(column):
    import pyarrow as pa

    if column.endswith(("date", "extent")):
        return pa.date32()
    return {"reserved": pa.bool_(), "value_pence": pa.int64()}.get(column, pa.string())


def _contract_facts(warehouse, rows):
    """A contract_facts table with the columns the check reads, as `mutualise chains` writes it."""
    from datetime import date

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = warehouse / "tables" / "contract_facts"
    folder.mkdir(parents=True)
    defaults = {
        "ocid": "ocds-b5fd17-1",
        "award_id": "1",
        "title": "Community health services",
        "cpv_id": "85323000",
        "award_date": date(2024, 5, 1),
        "start_date": date(2024, 6, 1),
        "end_date": date(2027, 5, 31),
        "renewal_max_extent": None,
        "method_details": "Open procedure",
        "buyer_identifier": "GB-GOR-E1",
        "organisation_identifier": None,
        "supplier_identifier": None,
        "reserved": False,
        "supplier_class": "LARGE_PRIVATE",
        "supplier_name": "A supplier",
        "buyer_name": "A council",
        "value_pence": None,
    }
    schema = pa.schema(
        [
            (name, pa.date32() if name.endswith(("date", "extent")) else pa.string())
            for name in defaults
            if name != "reserved"
        ]
        + [("reserved", pa.bool_())]
    )
    table = pa.Table.from_pylist([{**defaults, **row} for row in rows], schema=schema)
    pq.write_table(table, folder / "part-0.parquet")


def test_ocid_takes_the_procurement_from_the_warehouse(tmp_path):
    _contract_facts(tmp_path, [{}])
    result = run("--ocid", "ocds-b5fd17-1", "--warehouse", str(tmp_path))
    assert result.exit_code == 0, result.text
    assert "From OCDS: ocds-b5fd17-1 award 1" in result.text
    assert "CPV 85323000" in result.text and "term 36 months" in result.text
    assert "ELIGIBLE" in result.text and "regulation 77" in result.text


def test_ocid_counts_renewal_options_in_the_term(tmp_path):
    from datetime import date

    _contract_facts(tmp_path, [{"renewal_max_extent": date(2029, 5, 31)}])
    result = run("--ocid", "ocds-b5fd17-1", "--warehouse", str(tmp_path))
    assert result.exit_code == 1, result.text
    assert "term 60 months" in result.text and "NOT ELIGIBLE" in result.text


def test_options_override_what_the_ocid_published(tmp_path):
    _contract_facts(tmp_path, [{}])
    result = run("--ocid", "ocds-b5fd17-1", "--max-term-months", "48", "--warehouse", str(tmp_path))
    assert result.exit_code == 1 and "48 months" in result.text


def test_ocid_with_several_awards_asks_which(tmp_path):
    _contract_facts(tmp_path, [{"award_id": "1"}, {"award_id": "2", "cpv_id": "79622000"}])
    result = run("--ocid", "ocds-b5fd17-1", "--warehouse", str(tmp_path))
    assert result.exit_code == 2 and "choose one with --award-id (1, 2)" in result.text
    chosen = run("--ocid", "ocds-b5fd17-1", "--award-id", "2", "--warehouse", str(tmp_path))
    assert chosen.exit_code == 0 and "CPV 79622000" in chosen.text


def test_unknown_ocid_or_no_warehouse_tables_exit_2(tmp_path):
    missing = run("--ocid", "ocds-b5fd17-1", "--warehouse", str(tmp_path))
    assert missing.exit_code == 2 and "run `mutualise chains` first" in missing.text
    _contract_facts(tmp_path, [{}])
    unknown = run("--ocid", "ocds-b5fd17-404", "--warehouse", str(tmp_path))
    assert unknown.exit_code == 2 and "no award of 'ocds-b5fd17-404'" in unknown.text


def test_without_ocid_the_three_facts_are_required():
    result = run("--cpv", "85323000", "--award-date", "2024-05-01")
    assert result.exit_code == 2
    assert "missing --max-term-months (or give --ocid)" in result.text


def test_missed_report_lists_only_large_firm_contracts_that_could_have_been_reserved(tmp_path):
    from datetime import date

    reservable = {"supplier_class": "LARGE_PRIVATE", "supplier_name": "Bigco plc"}
    _contract_facts(
        tmp_path,
        [
            {**reservable, "ocid": "ocds-missed"},
            {**reservable, "ocid": "ocds-reserved", "reserved": True},
            {**reservable, "ocid": "ocds-too-long", "end_date": date(2028, 6, 1)},
            {**reservable, "ocid": "ocds-not-a-service", "cpv_id": "45000000"},
            {**reservable, "ocid": "ocds-no-dates", "start_date": None, "end_date": None},
            {"ocid": "ocds-mutual", "supplier_class": "PUBLIC_SERVICE_MUTUAL"},
            {"ocid": "ocds-sme", "supplier_class": "SME"},
        ],
    )
    out = tmp_path / "missed.csv"
    result = runner.invoke(
        app, ["reservation", "missed-report", str(out), "--warehouse", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    import csv

    rows = list(csv.DictReader(out.open()))
    assert [row["ocid"] for row in rows] == ["ocds-missed"]
    assert rows[0]["regime"] == "pcr-2015-reg-77" and rows[0]["term_months"] == "36"
    summary = runner.invoke(app, ["reservation", "missed-report", "--warehouse", str(tmp_path)])
    assert "1 of 5 large-firm contracts could have been reserved" in summary.output
