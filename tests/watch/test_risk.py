from datetime import date

from mutualise.watch.risk import RiskFacts, assess


def facts(**kw):
    base = dict(
        today=date(2026, 1, 1),
        end_date=date(2026, 5, 1),
        value_pence=300_000_000,
        start_date=date(2023, 5, 2),
        annual_income_pence=150_000_000,
        reservable_next=False,
        large_firm_history=True,
        options_left=False,
    )
    base.update(kw)
    return RiskFacts(**base)


def test_anchor_contract_ending_soon_is_high_risk_with_reasons():
    risk = assess(facts())
    assert risk.level == "high"
    assert any("anchor contract" in r for r in risk.reasons)
    assert risk.months_to_end == 4


def test_far_off_small_contract_is_low_risk():
    risk = assess(
        facts(
            end_date=date(2029, 1, 1),
            value_pence=1_000_000,
            reservable_next=True,
            large_firm_history=False,
            options_left=True,
        )
    )
    assert risk.level == "low"
