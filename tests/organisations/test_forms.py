"""Money in pounds and pence: exact, never negative, never fractions of a penny."""

from __future__ import annotations

import pytest
from django.forms import ValidationError

from mutualise.organisations.forms import format_pounds, parse_pounds


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("1,250.50", 125050),
        ("£1250.5", 125050),
        ("0", 0),
        ("", None),
        ("  ", None),
        ("1250000", 125000000),
        ("0.01", 1),
    ],
)
def test_parse_pounds(text, pence):
    assert parse_pounds(text) == pence


@pytest.mark.parametrize("text", ["-1", "1.005", "ten pounds", "NaN", "Infinity"])
def test_parse_pounds_refuses(text):
    with pytest.raises(ValidationError):
        parse_pounds(text)


def test_format_pounds():
    assert format_pounds(125050) == "1,250.50"
    assert format_pounds(None) == ""
