"""The bulk register file formats we load, exactly as published (DOMAIN.md §5), and header checks.

A file whose header differs from the expected one (a renamed, missing, extra or reordered
column) is refused before anything is read, with an error naming the expected columns.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

# Companies House "Free Company Data Product" (BasicCompanyData-YYYY-MM-01-partN_M.csv):
# 55 columns; some header names carry a leading space in the published file, so headers are
# compared with surrounding spaces removed.
COMPANIES_HOUSE_COLUMNS: tuple[str, ...] = (
    "CompanyName",
    "CompanyNumber",
    "RegAddress.CareOf",
    "RegAddress.POBox",
    "RegAddress.AddressLine1",
    "RegAddress.AddressLine2",
    "RegAddress.PostTown",
    "RegAddress.County",
    "RegAddress.Country",
    "RegAddress.PostCode",
    "CompanyCategory",
    "CompanyStatus",
    "CountryOfOrigin",
    "DissolutionDate",
    "IncorporationDate",
    "Accounts.AccountRefDay",
    "Accounts.AccountRefMonth",
    "Accounts.NextDueDate",
    "Accounts.LastMadeUpDate",
    "Accounts.AccountCategory",
    "Returns.NextDueDate",
    "Returns.LastMadeUpDate",
    "Mortgages.NumMortCharges",
    "Mortgages.NumMortOutstanding",
    "Mortgages.NumMortPartSatisfied",
    "Mortgages.NumMortSatisfied",
    "SICCode.SicText_1",
    "SICCode.SicText_2",
    "SICCode.SicText_3",
    "SICCode.SicText_4",
    "LimitedPartnerships.NumGenPartners",
    "LimitedPartnerships.NumLimPartners",
    "URI",
    *[f"PreviousName_{i}.{field}" for i in range(1, 11) for field in ("CONDATE", "CompanyName")],
    "ConfStmtNextDueDate",
    "ConfStmtLastMadeUpDate",
)
assert len(COMPANIES_HOUSE_COLUMNS) == 55

# FCA Mutuals Public Register export; "Registation" is the register's own spelling.
FCA_COLUMNS: tuple[str, ...] = (
    "Society Number",
    "Society Suffix",
    "Full Registation Number",
    "Society Name",
    "Registered As",
    "Society Address",
    "Registration Date",
    "Deregistration Date",
    "Registration Act",
    "Standard Industrial Classification Code (SIC)",
    "Reporting Classification",
    "Society Status",
)

# Charity Commission full-register extract, table `Charity` (publicextract.charity.json): the
# keys we need (the file has more, which are ignored).
CHARITY_KEYS: tuple[str, ...] = (
    "organisation_number",
    "registered_charity_number",
    "linked_charity_number",
    "charity_name",
    "charity_type",
    "charity_registration_status",
    "date_of_registration",
    "date_of_removal",
    "latest_income",
    "charity_contact_address1",
    "charity_contact_address2",
    "charity_contact_postcode",
    "charity_company_registration_number",
    "charity_is_cio",
)


class RegisterFormatError(ValueError):
    """The file is not in the expected register format; the message names the expected columns."""


def _first_line(path: Path) -> str:
    with path.open("rb") as handle:
        raw = handle.readline(1 << 20)
    if not raw:
        raise RegisterFormatError(f"{path.name} is empty: expected a header line")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegisterFormatError(
            f"{path.name} is UTF-16 text: the register files are UTF-8; save it as UTF-8"
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding).rstrip("\r\n")
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1").rstrip("\r\n")


def check_csv_header(path: Path, expected: tuple[str, ...], register_name: str) -> None:
    """Raise RegisterFormatError unless the file's header is exactly the expected columns."""
    line = _first_line(path)
    try:
        found = [name.strip() for name in next(csv.reader(io.StringIO(line)), [])]
    except csv.Error as exc:  # a NUL byte, a stray carriage return: not a CSV header
        raise RegisterFormatError(
            f"{path.name} is not a {register_name} file: its first line is not a CSV header "
            f"({exc}). Expected columns: {', '.join(expected)}"
        ) from None
    if found == list(expected):
        return
    expected_text = ", ".join(expected)
    if len(found) != len(expected):
        detail = f"found {len(found)} columns, expected {len(expected)}"
    else:
        index = next(i for i, (a, b) in enumerate(zip(found, expected, strict=True)) if a != b)
        detail = f"column {index + 1} is {found[index]!r}, expected {expected[index]!r}"
    missing = [name for name in expected if name not in found]
    if missing:
        detail += f"; missing: {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}"
    raise RegisterFormatError(
        f"{path.name} is not a {register_name} file ({detail}). Expected columns: {expected_text}"
    )


def check_charity_json(path: Path) -> None:
    """The extract is one JSON array of objects; the first object must have the keys we need."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16).decode("utf-8-sig", errors="replace")
    start = head.find("{")
    if not head.lstrip().startswith("[") or start < 0:
        raise RegisterFormatError(
            f"{path.name} is not a Charity Commission extract (expected a JSON array of charity "
            f"objects). Expected keys: {', '.join(CHARITY_KEYS)}"
        )
    try:
        first, _ = json.JSONDecoder().raw_decode(head[start:])
    except json.JSONDecodeError as exc:
        raise RegisterFormatError(
            f"{path.name}: the first charity record is not valid JSON ({exc.msg}). "
            f"Expected keys: {', '.join(CHARITY_KEYS)}"
        ) from exc
    missing = [key for key in CHARITY_KEYS if key not in first]
    if missing:
        raise RegisterFormatError(
            f"{path.name} is not a Charity Commission `Charity` extract (missing "
            f"{', '.join(missing)}). Expected keys: {', '.join(CHARITY_KEYS)}"
        )
