import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutualise.fund.money import MoneyError, format_pence, parse_pounds


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("1,250.50", 125050),
        ("£10", 1000),
        ("0.5", 50),
        ("0", 0),
        (" 3.07 ", 307),
        ("1 000", 100000),
        ("12.10", 1210),
        ("12.100", 1210),
    ],
)
def test_parses_pounds_and_pence_exactly(text, pence):
    assert parse_pounds(text) == pence


@pytest.mark.parametrize("text", ["-5", "1.234", "abc", "", "1e3", "£", "1.2.3", "NaN", "inf"])
def test_refuses_bad_amounts(text):
    with pytest.raises(MoneyError):
        parse_pounds(text)


def test_negative_message_is_plain():
    with pytest.raises(MoneyError, match="cannot be negative"):
        parse_pounds("-1.00")


def test_decimal_places_message_is_plain():
    with pytest.raises(MoneyError, match="2 decimal places"):
        parse_pounds("1.005")


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=10**13))
def test_format_and_parse_round_trip(pence):
    assert parse_pounds(format_pence(pence)) == pence


def test_format_negative():
    assert format_pence(-500) == "-£5.00"
    assert format_pence(123456789) == "£1,234,567.89"
