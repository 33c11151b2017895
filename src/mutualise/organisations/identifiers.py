"""Organisation identifiers: parse, normalise and validate per scheme. Pure; no Django.

The pipeline imports this module too, so it must never import Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from mutualise.rules import RulesError, load_yaml, require_keys

# Portal-internal ids are not organisation identities (DOMAIN.md §5): the same firm appears under
# many of them. They are kept as mentions, never used to join organisations.
PORTAL_SCHEMES = frozenset({"GB-CFS", "GB-FTS"})


@dataclass(frozen=True)
class Scheme:
    code: str
    name: str
    pattern: re.Pattern[str]
    example: str
    expected: str


class IdentifierError(ValueError):
    """An identifier that does not fit its scheme; the message says the expected format."""


@cache
def schemes() -> dict[str, Scheme]:
    data = load_yaml("identifier_schemes.yaml")
    result: dict[str, Scheme] = {}
    for code, item in data["schemes"].items():
        require_keys(
            "identifier_schemes.yaml", code, item, ["name", "pattern", "example", "expected"]
        )
        try:
            # ASCII: `\d` alone also matches Arabic-Indic and other digits no register issues.
            pattern = re.compile(item["pattern"], re.ASCII)
        except re.error as exc:
            raise RulesError(f"identifier_schemes.yaml: {code} pattern is invalid: {exc}") from exc
        result[code] = Scheme(code, item["name"], pattern, item["example"], item["expected"])
    return result


def normalise(scheme: str, value: str) -> str:
    """The canonical form of an identifier, as registers print it."""
    scheme = scheme.strip().upper()
    cleaned = re.sub(r"[\s.]", "", value or "").upper()
    if scheme == "GB-COH":
        return normalise_company_number(cleaned)
    if scheme == "GB-SC" and cleaned.isdigit():
        return "SC" + cleaned.zfill(6)
    return cleaned


def normalise_company_number(value: str) -> str:
    """Zero-pad Companies House numbers; real OCDS drops leading zeros ("4142000")."""
    cleaned = re.sub(r"[\s.]", "", value or "").upper()
    if cleaned.isdigit():
        return cleaned.zfill(8) if len(cleaned) <= 8 else cleaned
    match = re.fullmatch(r"([A-Z]{2})(\d{1,6})", cleaned)
    if match:
        return match.group(1) + match.group(2).zfill(6)
    return cleaned


def validate(scheme: str, value: str) -> str:
    """Return the normalised identifier or raise IdentifierError naming the expected format."""
    scheme = scheme.strip().upper()
    known = schemes()
    if scheme not in known:
        raise IdentifierError(
            f"{scheme or 'the scheme'} is not a scheme we know; use one of {', '.join(sorted(known))}"
        )
    normalised = normalise(scheme, value)
    spec = known[scheme]
    if not normalised or not spec.pattern.fullmatch(normalised):
        raise IdentifierError(
            f"{value!r} is not a valid {spec.name} identifier: expected {spec.expected}"
        )
    return normalised


def split_prefixed(identifier: str) -> tuple[str, str]:
    """Split "GB-COH-01234567" into ("GB-COH", "01234567")."""
    for code in sorted(schemes(), key=len, reverse=True):
        if identifier.upper().startswith(code + "-"):
            return code, identifier[len(code) + 1 :]
    raise IdentifierError(f"{identifier!r} does not start with a known scheme such as GB-COH-")
