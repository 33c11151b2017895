"""Query windows, dates, text encodings and lenient page inspection."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutualise.pipeline.sources.pages import (
    as_utf8,
    charset_of,
    cursor_of,
    decode_body,
    inspect_page,
)
from mutualise.pipeline.sources.windows import Window, parse_moment, split_windows

SIX_HOURS = timedelta(hours=6)
moments = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(moments, st.integers(min_value=0, max_value=60 * 24 * 10), st.integers(30, 24 * 60))
def test_windows_cover_the_range_exactly_in_steps_no_longer_than_the_span(
    start: datetime, minutes: int, span_minutes: int
) -> None:
    end = start + timedelta(minutes=minutes)
    span = timedelta(minutes=span_minutes)
    windows = split_windows(start, end, span)
    if minutes == 0:
        assert windows == []
        return
    assert windows[0].start == start
    assert windows[-1].end == end
    for before, after in itertools.pairwise(windows):
        assert before.end == after.start
    assert all(timedelta(0) < w.end - w.start <= span for w in windows)
    assert all(w.end - w.start == span for w in windows[:-1])


def test_a_day_of_find_a_tender_is_four_six_hour_windows() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    windows = split_windows(start, start + timedelta(days=1), SIX_HOURS)
    assert [w.name for w in windows] == [
        "20250301T000000Z_20250301T060000Z",
        "20250301T060000Z_20250301T120000Z",
        "20250301T120000Z_20250301T180000Z",
        "20250301T180000Z_20250302T000000Z",
    ]
    assert Window.from_json(windows[0].as_json()) == windows[0]


def test_parse_moment_reads_dates_and_date_times_as_utc() -> None:
    assert parse_moment("2025-01-20") == datetime(2025, 1, 20, tzinfo=UTC)
    assert parse_moment("2025-01-20", end_of_day=True) == datetime(2025, 1, 21, tzinfo=UTC)
    assert parse_moment("2025-01-20T23:00:00") == datetime(2025, 1, 20, 23, tzinfo=UTC)
    assert parse_moment("2025-07-01T10:00:00+01:00") == datetime(2025, 7, 1, 9, tzinfo=UTC)
    assert parse_moment("2025-01-20T23:00:00Z") == datetime(2025, 1, 20, 23, tzinfo=UTC)
    for bad in ["2025-13-01", "yesterday", "", "20/01/2025"]:
        with pytest.raises(ValueError):
            parse_moment(bad)


def test_charset_is_read_from_content_type() -> None:
    assert charset_of("application/json; charset=ISO-8859-1") == "iso-8859-1"
    assert charset_of('application/json; charset="utf-8"') == "utf-8"
    assert charset_of("application/json") is None
    assert charset_of(None) is None


def test_declared_iso_8859_1_is_decoded_and_stored_as_utf8() -> None:
    text = '{"title": "Caf\u00e9 \u00a3250 \u2019quoted\u2019"}'
    raw = text.encode("cp1252")
    stored, decoded = as_utf8(raw, "application/json; charset=iso-8859-1")
    assert decoded.declared == "iso-8859-1"
    assert stored.decode("utf-8") == text


def test_undeclared_latin_text_falls_back_from_utf8_to_windows_1252() -> None:
    raw = '{"title": "\u00a3 5,000 \u2013 caf\u00e9"}'.encode("cp1252")
    decoded = decode_body(raw, "application/json")
    assert decoded.charset == "cp1252"
    assert json.loads(decoded.text)["title"] == "\u00a3 5,000 \u2013 caf\u00e9"
    # Bytes undefined in Windows-1252 still decode (as Latin-1).
    assert decode_body(b'{"a": "\x81"}', None).charset == "latin-1"


def test_utf8_pages_are_kept_byte_for_byte() -> None:
    raw = '{"title": "caf\u00e9", "amount": 1e9999}'.encode()
    stored, _ = as_utf8(raw, "application/json; charset=utf-8")
    assert stored is raw
    # A wrong declaration does not break a page that is not in that charset.
    assert decode_body(b'{"a": "\xa3"}', "application/json; charset=utf-8").charset == "cp1252"


def test_inspect_page_survives_find_a_tender_quirks() -> None:
    next_link = "https://example.test/api/1.0/ocdsReleasePackages?cursor=abc%3D&limit=100"
    infinity = (
        '{"releases": [{"ocid": "ocds-h6vhtk-1", "tender": {"value": {"amount": 1e9999}}}],'
        f' "links": {{"next": "{next_link}"}}}}'
    ).encode()
    info = inspect_page(infinity)
    assert (info.releases, info.next_url, info.valid_json) == (1, next_link, True)

    spaced = (
        '{"releases": [{"ocid": "ocds-h6vhtk-1", "value": {"amount": 250 000, "currency": "GBP"}},'
        ' {"ocid": "ocds-h6vhtk-2", "description": "a \\"quoted\\" budget of 1 000, more"}],'
        f' "links": {{"next": "{next_link}"}}}}'
    ).encode()
    info = inspect_page(spaced)
    assert (info.releases, info.next_url, info.valid_json) == (2, next_link, False)
    assert cursor_of(info.next_url or "") == "abc="

    assert inspect_page(b"not json at all").releases == 0
    assert inspect_page(b"[]").next_url is None
