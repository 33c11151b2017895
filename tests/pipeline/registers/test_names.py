"""The name normaliser knows UK legal forms and does not mangle names such as Age UK."""

from __future__ import annotations

import pytest

from mutualise.pipeline.registers.names import legal_form_hint, normalise_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Age UK", "age uk"),
        ("The Hartdon Youth Works C.I.C.", "hartdon youth works"),
        ("Hartdon Youth Works Community Interest Company", "hartdon youth works"),
        ("HARTDON YOUTH WORKS CIC", "hartdon youth works"),
        ("Zenith Training (UK) Limited", "zenith training"),
        ("Zenith Training (UK) Ltd.", "zenith training"),
        ("Pinnacle Associates Group Public Limited Company", "pinnacle associates group"),
        ("Pinnacle Associates Group p.l.c.", "pinnacle associates group"),
        ("Fenwell Technologies L.L.P.", "fenwell technologies"),
        ("Edwards & Okafor Healthcare Limited", "edwards and okafor healthcare"),
        ("Edwards and Okafor Healthcare Ltd", "edwards and okafor healthcare"),
        ("Sanddon Co-op Limited", "sanddon cooperative"),
        ("Sanddon Co-operative Ltd", "sanddon cooperative"),
        ("Sandmouth Health and Care CIO", "sandmouth health and care"),
        ("Leewick Community Leisure Community Benefit Society", "leewick community leisure"),
        ("Kelly Recruitment Limited t/a Pathway Print", "kelly recruitment"),
        ("Limited", "limited"),
        ("The", "the"),
        ("", ""),
        (None, ""),
        ("Café Nero Ltd", "cafe nero"),
        ("St John's Ambulance", "st johns ambulance"),
        ("UK Power Networks (Operations) Limited", "uk power networks operations"),
    ],
)
def test_normalise_name(name: str | None, expected: str) -> None:
    assert normalise_name(name) == expected


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("The X C.I.C.", "cic"),
        ("X CIC Limited", "cic"),
        ("X Ltd", "company"),
        ("X plc", "plc"),
        ("X CIO", "cio"),
        ("Age UK", ""),
    ],
)
def test_legal_form_hint(name: str, form: str) -> None:
    assert legal_form_hint(name) == form


def test_identifier_normalisation_reused() -> None:
    from mutualise.organisations.identifiers import normalise_company_number

    assert normalise_company_number("4142000") == "04142000"
    assert normalise_company_number("SC12345") == "SC012345"
    assert normalise_company_number("ni 1234") == "NI001234"
