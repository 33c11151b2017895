"""Identifier validation for every scheme in rules/identifier_schemes.yaml. Pure: no database."""

from __future__ import annotations

import pytest

from mutualise.organisations import identifiers
from mutualise.organisations.identifiers import IdentifierError, normalise, validate

VALID = {
    "GB-COH": [
        ("04142000", "04142000"),
        ("4142000", "04142000"),
        ("SC123456", "SC123456"),
        ("sc 123456", "SC123456"),
        ("NI12345", "NI012345"),
        ("RS007", "RS000007"),
    ],
    "GB-MPR": [("10008R", "10008R"), ("30186 r", "30186R"), ("1234RS", "1234RS")],
    "GB-CHC": [("1123456", "1123456"), ("212345", "212345"), ("1123456-1", "1123456-1")],
    "GB-SC": [("SC012345", "SC012345"), ("12345", "SC012345")],
    "GB-NIC": [("100123", "100123")],
    "GB-NHS": [("RXH", "RXH"), ("rxh01", "RXH01")],
    "GB-LAE": [("BIR", "BIR"), ("manc", "MANC")],
    "GB-GOR": [("D6", "D6"), ("EA1234", "EA1234")],
    "GB-UKPRN": [("10001234", "10001234")],
    "GB-PPON": [("PABC-1234-XYZW", "PABC-1234-XYZW")],
}
INVALID = {
    "GB-COH": ["123456789", "ABC12345", "SC1234567", ""],
    "GB-MPR": ["10008", "R10008", "1234567R"],
    "GB-CHC": ["12345", "ABC123", "12345678"],
    "GB-SC": ["SC12345", "NI012345"],
    "GB-NIC": ["12345", "1234567", "NIC123"],
    "GB-NHS": ["R", "RXH-01", "ABCDEFG"],
    "GB-LAE": ["BI", "BIRMINGHAM", "B1R"],
    "GB-GOR": ["6D", "123456", "D123456"],
    "GB-UKPRN": ["20001234", "1000123", "100012345"],
    "GB-PPON": ["AB", "-ABC", "A" * 30],
}


def test_every_scheme_is_tested():
    assert set(VALID) == set(identifiers.schemes()) == set(INVALID)


@pytest.mark.parametrize(
    ("scheme", "value", "expected"),
    [(scheme, value, expected) for scheme, cases in VALID.items() for value, expected in cases],
)
def test_valid_identifiers_are_normalised(scheme, value, expected):
    assert validate(scheme, value) == expected


@pytest.mark.parametrize(
    ("scheme", "value"),
    [(scheme, value) for scheme, values in INVALID.items() for value in values],
)
def test_malformed_identifiers_name_the_expected_format(scheme, value):
    spec = identifiers.schemes()[scheme]
    with pytest.raises(IdentifierError) as caught:
        validate(scheme, value)
    assert spec.expected in str(caught.value)
    assert spec.name in str(caught.value)


def test_companies_house_numbers_are_zero_padded():
    assert normalise("GB-COH", "4142000") == "04142000"
    assert identifiers.normalise_company_number("4142000") == "04142000"
    assert validate("gb-coh", " 4142000 ") == "04142000"


def test_unknown_scheme_lists_the_known_ones():
    with pytest.raises(IdentifierError, match="GB-COH"):
        validate("GB-XYZ", "123")


def test_prefixed_identifiers_split_on_the_longest_scheme():
    assert identifiers.split_prefixed("GB-COH-04142000") == ("GB-COH", "04142000")
    assert identifiers.split_prefixed("GB-UKPRN-10001234") == ("GB-UKPRN", "10001234")
    with pytest.raises(IdentifierError):
        identifiers.split_prefixed("XX-1234")
