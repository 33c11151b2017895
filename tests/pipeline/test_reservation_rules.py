"""Reservation rules at their boundaries (pure: no database)."""

from datetime import date

import pytest

from mutualise.pipeline import reservation as r


def check(cpv=("85311000",), term=36, day="2024-06-01", **others):
    return r.check(r.make_question(list(cpv), term, day, **others))


def status(result, key):
    return next(c.status for c in result.conditions if c.key == key)


def test_exactly_36_months_passes_and_37_fails_under_reg_77():
    assert status(check(term=36), "maximum_term") == r.PASS
    assert status(check(term=37), "maximum_term") == r.FAIL


def test_exactly_60_months_passes_and_61_fails_under_s33():
    assert status(check(term=60, day="2025-03-01"), "maximum_term") == r.PASS
    assert status(check(term=61, day="2025-03-01"), "maximum_term") == r.FAIL


def test_regime_switches_on_24_february_2025():
    assert check(day="2025-02-23").regime.name == "pcr-2015-reg-77"
    assert check(day="2025-02-24").regime.name == "procurement-act-2023-s33"
    assert check(day="2015-02-25").regime is None


def test_procurement_start_decides_the_regime_when_known():
    result = check(day="2025-06-01", procurement_started_on=date(2025, 1, 10))
    assert result.regime.name == "pcr-2015-reg-77"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("85000000", r.PASS),
        ("85323000", r.PASS),
        ("85323000-9", r.PASS),
        ("84999999", r.FAIL),
        ("85323001", r.FAIL),
        ("98133110", r.PASS),
        ("98133111", r.FAIL),
        ("79410000", r.FAIL),
    ],
)
def test_cpv_range_edges(code, expected):
    assert status(check(cpv=(code,)), "cpv") == expected


def test_every_code_must_be_reservable():
    result = check(cpv=("85311000", "79410000"))
    assert status(result, "cpv") == r.FAIL and not result.eligible


def test_s33_cpv_list_not_loaded_cannot_confirm_and_is_not_eligible():
    result = check(term=60, day="2025-03-01", procedure="competitive flexible procedure")
    assert status(result, "cpv") == r.UNKNOWN
    assert "not loaded" in next(c.reason for c in result.conditions if c.key == "cpv")
    assert not result.eligible and result.verdict == "NOT ELIGIBLE"


def test_s33_needs_the_competitive_flexible_procedure():
    assert status(check(day="2025-03-01", procedure="open"), "procedure") == r.FAIL
    assert status(check(day="2025-03-01", procedure="competitive-flexible"), "procedure") == r.PASS
    assert status(check(procedure="direct award"), "procedure") == r.FAIL
    assert status(check(), "procedure") == r.NOT_CHECKED


def test_nhs_clinical_services_by_a_health_commissioner_are_excluded():
    assert (
        status(check(cpv=("85121000",), buyer_identifier="GB-NHS-RX1"), "nhs_clinical_services")
        == r.FAIL
    )
    assert (
        status(
            check(cpv=("85121000",), buyer_identifier="GB-LAE-E08000001"), "nhs_clinical_services"
        )
        == r.PASS
    )
    assert (
        status(check(cpv=("85311000",), buyer_identifier="GB-NHS-RX1"), "nhs_clinical_services")
        == r.PASS
    )


def _prior(day, reserved=True, cpv="85311000"):
    return r.PriorAward("GB-LAE-E1", "GB-COH-01234567", (cpv,), day, reserved, "ocds-x", "1")


def _with_prior(day, award="2024-06-01", **kw):
    supplier = r.SupplierFacts("GB-COH-01234567", "A mutual", True, True, True)
    return check(
        day=award,
        supplier=supplier,
        buyer_identifier="GB-LAE-E1",
        prior_awards=(_prior(day, **kw),),
    )


def test_cool_off_to_the_day():
    on_anniversary = _with_prior(date(2021, 6, 1))
    assert status(on_anniversary, "cool_off") == r.PASS and on_anniversary.eligible
    day_after = _with_prior(date(2021, 6, 2))
    assert status(day_after, "cool_off") == r.FAIL and not day_after.eligible
    assert day_after.cool_off_ends_on == date(2024, 6, 1)
    assert day_after.eligible_again_on == date(2024, 6, 2)


def test_cool_off_ignores_unreserved_and_other_services():
    assert status(_with_prior(date(2023, 1, 1), reserved=False), "cool_off") == r.PASS
    assert status(_with_prior(date(2023, 1, 1), cpv="92600000"), "cool_off") == r.PASS


def test_organisation_conditions_unknown_block_and_missing_supplier_is_not_checked():
    unknown = check(supplier=r.SupplierFacts("GB-COH-01234567"), buyer_identifier="GB-LAE-E1")
    assert status(unknown, "employee_ownership") == r.UNKNOWN and not unknown.eligible
    assert status(check(), "employee_ownership") == r.NOT_CHECKED


@pytest.mark.parametrize(
    "bad", [{"cpv": ("8531",)}, {"term": 0}, {"day": "2024-13-01"}, {"procedure": "bribery"}]
)
def test_bad_input_raises(bad):
    with pytest.raises(r.ReservationInputError):
        check(**bad)


def test_add_years_on_29_february():
    assert r.add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)


def test_term_months():
    assert r.term_months(date(2022, 4, 1), date(2025, 3, 31)) == 36
    assert r.term_months(date(2022, 4, 1), date(2025, 4, 1)) == 37


def test_cpv_list_file_format(tmp_path):
    from mutualise.rules import RulesError

    good = tmp_path / "list.csv"
    good.write_text(
        "code_from,code_to,description,source\n85000000-0,85323000,Health,SI 2024/692\n"
        "92500000,,Libraries,SI 2024/692\n"
    )
    ranges = r.read_cpv_list(good)
    assert [(x.code_from, x.code_to) for x in ranges] == [
        ("85000000", "85323000"),
        ("92500000", "92500000"),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("code_from,code_to,description,source\n85323000,85000000,Backwards,x\n")
    with pytest.raises(RulesError):
        r.read_cpv_list(bad)


def test_pcr_list_is_exactly_the_domain_list():
    regime = r.load_rules().regime_named("pcr-2015-reg-77")
    singles = {x.code_from for x in regime.cpv_ranges if x.code_from == x.code_to}
    assert singles == {
        "75121000",
        "75122000",
        "75123000",
        "79622000",
        "79624000",
        "79625000",
        "80110000",
        "80300000",
        "80420000",
        "80430000",
        "80511000",
        "80520000",
        "80590000",
        "92500000",
        "92600000",
        "98133000",
        "98133110",
    }
    assert [(x.code_from, x.code_to) for x in regime.cpv_ranges if x.code_from != x.code_to] == [
        ("85000000", "85323000")
    ]
    assert not r.load_rules().regime_named("procurement-act-2023-s33").cpv_list_loaded
