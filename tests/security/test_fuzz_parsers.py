"""Hostile input, fuzzed: every parser we own gives a value or its own clear error, never a crash.

Each property says what the parser promises (idempotent, round-trips valid input, refuses invalid
input with its documented error), and hypothesis looks for input that breaks it. Money parsing
has its own properties in tests/fund/test_money.py.
"""

from __future__ import annotations

import gzip
import string
import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mutualise.organisations.identifiers import (
    IdentifierError,
    normalise,
    normalise_company_number,
    schemes,
    validate,
)
from mutualise.pipeline import reservation
from mutualise.pipeline.dates import parse_datetime
from mutualise.pipeline.ingest import examine_value
from mutualise.pipeline.jsonio import BadInput, iter_values, loads
from mutualise.pipeline.registers.formats import (
    FCA_COLUMNS,
    RegisterFormatError,
    check_charity_json,
    check_csv_header,
)
from mutualise.pipeline.registers.names import normalise_name
from mutualise.rules import RulesError

FAST = settings(max_examples=60, deadline=None)
# The reason codes a value or a file can be quarantined with (ingest adds per-release ones).
FILE_CODES = {
    "malformed_json",
    "truncated_file",
    "unreadable_file",
    "wrong_encoding",
    "unsafe_archive",
}

# Text that looks like the Find a Tender number quirks (`1e9999`, `25 000`), inside strings,
# where no fix may touch it.
QUIRKY_TEXT = st.sampled_from([",1e9999", ":-1e+9999]", ",25 000}", "[1 000 000,", ": 12 345]"])
json_text = st.one_of(st.text(max_size=20), QUIRKY_TEXT)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_text, children, max_size=4)
    ),
    max_leaves=12,
)
release_like = st.fixed_dictionaries(
    {"ocid": st.text(min_size=1, max_size=10), "extra": json_values}
)


def read_back(data: bytes, suffix: str) -> list:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        return list(iter_values(path))


# -- the OCDS loader -----------------------------------------------------------------------------
@FAST
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".json", ".jsonl", ".gz", ".zip"]))
@example(data=b"[" * 5000 + b"]" * 5000, suffix=".json")
@example(data=b"\xff\xfe{\x00}\x00", suffix=".json")
@example(data=b'{"a": 1}\n{"b": \xe9}', suffix=".json")
@example(data=b'{"a": 123456789012345678901234567890}{"b": NaN}', suffix=".json")
def test_any_bytes_give_values_or_reasons(data: bytes, suffix: str) -> None:
    for item in read_back(data, suffix):
        if isinstance(item, BadInput):
            assert item.reason and item.code in FILE_CODES
            assert "\n" not in item.reason  # one line, for the quarantine table and the CLI
        else:
            position, value = item
            assert position.file.endswith(suffix)
            orjson.dumps(value)  # whatever was read can be stored


@FAST
@given(data=st.binary(max_size=300))
def test_gzipped_bytes_are_read_like_the_bytes_themselves(data: bytes) -> None:
    def outcome(items: list) -> list:
        return [(v.reason, v.code) if isinstance(v, BadInput) else v[1] for v in items]

    assert outcome(read_back(gzip.compress(data), ".json.gz")) == outcome(read_back(data, ".json"))


@FAST
@given(values=st.lists(release_like, min_size=1, max_size=5), gzipped=st.booleans())
def test_json_lines_round_trip(values: list, gzipped: bool) -> None:
    data = b"".join(orjson.dumps(value) + b"\n" for value in values)
    suffix = ".jsonl.gz" if gzipped else ".jsonl"
    found = read_back(gzip.compress(data) if gzipped else data, suffix)
    assert [item[1] for item in found] == values
    assert [item[0].line for item in found] == list(range(1, len(values) + 1))


@FAST
@given(values=st.lists(release_like, min_size=2, max_size=4))
def test_concatenated_documents_round_trip_untouched(values: list) -> None:
    """Pretty-printed JSON documents one after another: read back exactly, with no quirk fix
    rewriting text inside their strings."""
    data = b"\n".join(orjson.dumps(value, option=orjson.OPT_INDENT_2) for value in values)
    found = read_back(data, ".json")
    assert [item[1] for item in found] == values


@FAST
@given(text=st.binary(max_size=200))
def test_loads_gives_a_value_or_its_decode_error(text: bytes) -> None:
    try:
        value = loads(text)
    except orjson.JSONDecodeError as error:
        assert str(error)
    else:
        orjson.dumps(value)


@FAST
@given(value=json_values | st.lists(release_like, max_size=3))
@example(value=[[[[]]]])
@example(value={"releases": 5, "version": "1.0"})
@example(value={"records": [{"ocid": "x", "releases": 7}]})
@example(value={"ocid": "x", "date": "2025-01-01", "parties": 3})
@example(value={"ocid": "x", "date": "2025-01-01", "awards": [{"suppliers": 1}]})
def test_any_value_is_examined_or_rejected_with_a_reason(value: object) -> None:
    for _, examined, _ in examine_value(value):
        if examined[0]:
            assert examined[1] and examined[3]  # ocid and date
        else:
            assert examined[1] and examined[2], examined  # reason and code


@settings(max_examples=20, deadline=None)
@given(depth=st.integers(200, 1500), kind=st.sampled_from(["list", "dict", "release"]))
def test_deep_nesting_is_rejected_not_raised(depth: int, kind: str) -> None:
    inner: object = 1
    for _ in range(depth):
        inner = [inner] if kind == "list" else {"a": inner}
    value = (
        {"ocid": "ocds-x", "date": "2025-01-01T00:00:00Z", "deep": inner}
        if kind == "release"
        else inner
    )
    for _, examined, _ in examine_value(value):
        if kind == "release":  # orjson stores at most 255 levels
            assert examined[0] == (depth < 250) and (examined[0] or examined[2] == "too_deep")
        else:
            assert not examined[0] and examined[1]


# -- dates ----------------------------------------------------------------------------------------
@FAST
@given(text=st.text(max_size=40) | st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?\S*\Z"))
def test_parse_datetime_gives_utc_or_none(text: str) -> None:
    parsed = parse_datetime(text)
    assert parsed is None or (parsed.tzinfo is UTC and 1989 <= parsed.year <= 2101)


@FAST
@given(
    moment=st.datetimes(datetime(1990, 1, 2), datetime(2099, 12, 30)),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_parse_datetime_round_trips(moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    assert parse_datetime(aware.isoformat()) == aware
    assert parse_datetime(aware.isoformat()).utcoffset() == timedelta(0)


# -- identifiers -----------------------------------------------------------------------------------
scheme_codes = st.sampled_from(sorted(schemes()))
identifier_text = st.text(max_size=14) | st.from_regex(r"\A[A-Z]{0,2}[0-9 .]{1,9}[A-Z]?\Z")


@FAST
@given(scheme=scheme_codes, value=identifier_text)
@example(scheme="GB-COH", value="١٢٣٤٥")  # Arabic-Indic digits are no company number
def test_identifiers_validate_to_an_ascii_canonical_form_or_say_what_is_expected(
    scheme: str, value: str
) -> None:
    assert normalise(scheme, normalise(scheme, value)) == normalise(scheme, value)
    try:
        canonical = validate(scheme, value)
    except IdentifierError as error:
        assert "expected" in str(error)
        return
    assert canonical.isascii() and schemes()[scheme].pattern.fullmatch(canonical)
    assert validate(scheme, canonical) == canonical


@FAST
@given(number=st.integers(1, 99_999_999), prefix=st.sampled_from(["", "SC", "NI", "OC"]))
def test_company_numbers_are_padded_and_round_trip(number: int, prefix: str) -> None:
    digits = str(number) if not prefix else str(number % 1_000_000)
    canonical = validate("GB-COH", f" {prefix.lower()}{digits} ")
    width = 8 - len(prefix)
    assert canonical == prefix + digits.zfill(width)
    assert normalise_company_number(canonical) == canonical


@FAST
@given(
    name=st.text(max_size=60) | st.from_regex(r"\A(the |The )*[A-Za-z&.' -]{1,30}( Ltd| CIC)*\Z")
)
@example(name="The The Acme Ltd")
def test_normalised_names_are_plain_and_stable(name: str) -> None:
    normalised = normalise_name(name)
    assert set(normalised) <= set(string.ascii_lowercase + string.digits + " ")
    assert "  " not in normalised and normalised == normalised.strip()
    assert normalise_name(normalised) == normalised


# -- CPV codes and the CPV list import -----------------------------------------------------------------
@FAST
@given(code=st.text(max_size=12) | st.integers(0, 10**9).map(str))
@example(code="٨٥٣٢٣٠٠٠")
def test_cpv_codes_normalise_to_eight_ascii_digits_or_none(code: str) -> None:
    normal = reservation.normalise_cpv(code)
    assert normal is None or (len(normal) == 8 and normal.isascii() and normal.isdigit())


@FAST
@given(number=st.integers(0, 99_999_999), check=st.integers(0, 9), dashed=st.booleans())
def test_valid_cpv_codes_round_trip(number: int, check: int, dashed: bool) -> None:
    code = f"{number:08d}" + (f"-{check}" if dashed else "")
    assert reservation.normalise_cpv(f" {code} ") == f"{number:08d}"


@FAST
@given(data=st.binary(max_size=300))
@example(data=b"code_from,code_to,description,source\n85323000\n")
@example(data=b"code_from,code_to,description,source\n85323000,,caf\xe9,x\n")
@example(data=b"code_from,code_to,description,source\n85323000,,a\x00b,x\n")
def test_cpv_list_files_are_read_or_refused_with_a_rules_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.csv"
        path.write_bytes(b"code_from,code_to,description,source\n" + data)
        try:
            ranges = reservation.read_cpv_list(path)
        except RulesError as error:
            assert str(error)
            return
    for cpv in ranges:
        assert cpv.code_from.isascii() and int(cpv.code_from) <= int(cpv.code_to)


# -- register file headers -------------------------------------------------------------------------
@FAST
@given(data=st.binary(max_size=300))
@example(data=b"\xff\xfeS\x00o\x00")
@example(data=b"a\rb,c\n")
@example(data=b"")
def test_register_headers_are_accepted_or_refused_with_the_expected_columns(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "SocietyList.csv"
        path.write_bytes(data)
        try:
            check_csv_header(path, FCA_COLUMNS, "FCA Mutuals Public Register")
        except RegisterFormatError as error:
            assert path.name in str(error)
        else:
            assert data.decode("utf-8", "replace").startswith(FCA_COLUMNS[0])
        try:
            check_charity_json(path)
        except RegisterFormatError as error:
            assert path.name in str(error)


def test_the_real_header_passes(tmp_path: Path) -> None:
    path = tmp_path / "SocietyList.csv"
    path.write_text(",".join(FCA_COLUMNS) + "\r\n1,R,1R,X,,,,,,,,\r\n", encoding="utf-8")
    check_csv_header(path, FCA_COLUMNS, "FCA Mutuals Public Register")


# -- form inputs ---------------------------------------------------------------------------------------
def _form_data(form_class: type, texts: list[str]) -> dict[str, list[str]]:
    """Every key each field's widget reads (a date's day, month and year too), given the texts."""
    from django.utils.datastructures import MultiValueDict

    keys = []
    for name in form_class.base_fields:
        keys += [name, f"{name}_0", f"{name}_1", f"{name}_2"]
    return MultiValueDict({key: [texts[i % len(texts)]] for i, key in enumerate(keys)})


def _django_free_forms() -> list[type]:
    from mutualise.ambassadors.forms import AwayForm, EngagementForm, RatingForm
    from mutualise.fund.forms import ApproveForm, DeclarationForm, MilestoneForm, RoundForm
    from mutualise.organisations.forms import IdentifierForm
    from mutualise.suppliers.forms import ReviewDecisionForm
    from mutualise.watch.forms import ReservationCheckForm

    return [
        AwayForm,
        EngagementForm,
        RatingForm,
        ApproveForm,
        DeclarationForm,
        MilestoneForm,
        RoundForm,
        IdentifierForm,
        ReviewDecisionForm,
        ReservationCheckForm,
    ]


form_texts = st.lists(
    st.text(max_size=30)
    | st.sampled_from(["99999999999999999999", "1e999999", "0", "-1", "31", "2025", "\x00"]),
    min_size=1,
    max_size=6,
)


@settings(max_examples=120, deadline=None)
@given(index=st.integers(0, 9), texts=form_texts)
def test_forms_give_cleaned_values_or_error_messages(index: int, texts: list[str]) -> None:
    form_class = _django_free_forms()[index]
    form = form_class(data=_form_data(form_class, texts))
    if form.is_valid():
        return
    for messages in form.errors.values():
        assert messages and all(message.strip() for message in messages)


@FAST
@given(day=st.text(max_size=25), month=st.text(max_size=25), year=st.text(max_size=6))
@example(day="1", month="99999999999999999999", year="2025")
@example(day="99999999999999999999", month="1", year="2025")
def test_date_parts_give_a_date_or_a_validation_error(day: str, month: str, year: str) -> None:
    from django import forms

    from mutualise.core.forms import GovUKDateField

    field = GovUKDateField(label="Start date", required=False)
    try:
        value = field.clean([day, month, year])
    except forms.ValidationError as error:
        assert "Start date" in str(error) or "start date" in str(error)
    else:
        assert value is None or value == date(int(year), int(month), int(day))


@FAST
@given(text=st.text(max_size=30) | st.from_regex(r"\A£?[0-9,]{1,20}(\.[0-9]{0,3})?\Z"))
@example(text="1e999999999")
@example(text="1E+30")
def test_annual_income_is_pence_or_a_validation_error(text: str) -> None:
    from django import forms

    from mutualise.organisations.forms import format_pounds, parse_pounds

    try:
        pence = parse_pounds(text)
    except forms.ValidationError as error:
        assert error.messages and error.messages[0]
        return
    if pence is not None:
        assert pence >= 0 and parse_pounds(format_pounds(pence)) == pence


@settings(max_examples=60, deadline=None)
@given(texts=form_texts)
def test_organisation_form_gives_savable_values_or_error_messages(texts: list[str]) -> None:
    from unittest import mock

    from mutualise.organisations import forms
    from mutualise.organisations.models import Organisation

    # No parent bodies (an empty queryset asks no database), so this runs without one.
    with mock.patch.object(forms, "public_bodies", Organisation.objects.none):
        form = forms.OrganisationForm(data=_form_data(forms.OrganisationForm, texts))
        valid = form.is_valid()
    if not valid:
        assert all(messages for messages in form.errors.values())
        return
    facts = form.facts()
    for name in ("staff_count", "staff_board_seats", "board_seats"):
        assert facts[name] is None or 0 <= facts[name] <= 2_147_483_647
    income = facts["annual_income_pence"]
    assert income is None or 0 <= income < 2**63
