"""The polite client: spacing, rate limits, retries and permanent errors (no real waiting)."""

from __future__ import annotations

import httpx
import pytest
from pytest_httpserver import HTTPServer

from mutualise.pipeline.sources.client import PoliteClient, RatePolicy
from mutualise.pipeline.sources.clock import FakeClock
from mutualise.pipeline.sources.contracts_finder import CONTRACTS_FINDER
from mutualise.pipeline.sources.errors import (
    FetchError,
    NetworkError,
    PermanentHttpError,
    RateLimitExhausted,
)
from mutualise.pipeline.sources.find_a_tender import FIND_A_TENDER


def client_for(policy: RatePolicy, clock: FakeClock) -> tuple[PoliteClient, list[str]]:
    waits: list[str] = []
    client = PoliteClient(policy, clock=clock, on_wait=lambda s, r: waits.append(f"{s:g} {r}"))
    return client, waits


def test_contracts_finder_403_means_wait_300_seconds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data("Too many requests", status=403)
    httpserver.expect_ordered_request("/x").respond_with_json({"releases": []})
    clock = FakeClock()
    client, waits = client_for(CONTRACTS_FINDER.policy, clock)
    response = client.get(httpserver.url_for("/x"))
    assert response.status_code == 200
    assert clock.sleeps == [300.0]
    assert waits == ["300 rate limited (HTTP 403)"]
    assert client.rate_limit_waits == 1


def test_find_a_tender_429_honours_retry_after_else_backs_off_from_60(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data(
        "12 request limit in 2 minute exceeded", status=429, headers={"Retry-After": "42"}
    )
    httpserver.expect_ordered_request("/x").respond_with_data("slow down", status=429)
    httpserver.expect_ordered_request("/x").respond_with_data("slow down", status=429)
    httpserver.expect_ordered_request("/x").respond_with_json({"releases": []})
    clock = FakeClock()
    policy = RatePolicy(min_interval=0, rate_limit_statuses=frozenset({429}), backoff_start=60)
    client, _ = client_for(policy, clock)
    assert client.get(httpserver.url_for("/x")).status_code == 200
    # Retry-After first; then exponential from 60 s, counted from the first wait.
    assert clock.sleeps == [42.0, 120.0, 240.0]


def test_find_a_tender_403_is_permanent_not_a_rate_limit(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("Forbidden", status=403)
    client, _ = client_for(FIND_A_TENDER.policy, FakeClock())
    with pytest.raises(PermanentHttpError) as caught:
        client.get(httpserver.url_for("/x"), {"updatedFrom": "2025-03-01T00:00:00Z"})
    assert caught.value.status == 403


def test_requests_are_spaced_by_the_policy_interval(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_json({})
    clock = FakeClock()
    client, _ = client_for(FIND_A_TENDER.policy, clock)
    for _ in range(3):
        client.get(httpserver.url_for("/x"))
    assert clock.sleeps == [10.0, 10.0]


def test_server_errors_are_retried_with_bounded_backoff(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data("oops", status=503)
    httpserver.expect_ordered_request("/x").respond_with_data("oops", status=504)
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    clock = FakeClock()
    client, _ = client_for(RatePolicy(min_interval=0), clock)
    assert client.get(httpserver.url_for("/x")).json() == {"ok": True}
    assert clock.sleeps == [2.0, 4.0]

    httpserver.clear()
    httpserver.expect_request("/y").respond_with_data("down", status=500)
    client, _ = client_for(RatePolicy(min_interval=0, max_retries=3), FakeClock())
    with pytest.raises(NetworkError, match=r"HTTP 500 from http://.*/y \(gave up after 4"):
        client.get(httpserver.url_for("/y"))


def test_rate_limit_waits_are_bounded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("Too many requests", status=403)
    clock = FakeClock()
    client, _ = client_for(CONTRACTS_FINDER.policy, clock)
    with pytest.raises(RateLimitExhausted, match="after 6 waits"):
        client.get(httpserver.url_for("/x"))
    assert clock.sleeps == [300.0] * 6


def test_permanent_error_names_url_and_status_in_one_line(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/Published/Notices/OCDS/Search").respond_with_data(
        "Incorrect request [limit must be a number]", status=400
    )
    client, _ = client_for(CONTRACTS_FINDER.policy, FakeClock())
    url = httpserver.url_for("/Published/Notices/OCDS/Search")
    with pytest.raises(PermanentHttpError) as caught:
        client.get(url, {"publishedFrom": "2025-01-20T00:00:00", "limit": "100"})
    message = str(caught.value)
    assert "\n" not in message
    assert message.lower().startswith("http 400 bad request from http://")
    assert "/Published/Notices/OCDS/Search?publishedFrom=2025-01-20T00%3A00%3A00&limit=100" in (
        message
    )


def test_unreachable_host_gives_up_after_bounded_retries() -> None:
    clock = FakeClock()
    client, waits = client_for(RatePolicy(min_interval=0, max_retries=2), clock)
    with pytest.raises(NetworkError, match=r"could not reach http://127\.0\.0\.1:1/x"):
        client.get("http://127.0.0.1:1/x")
    assert clock.sleeps == [2.0, 4.0]
    assert all("network error" in wait for wait in waits)


def test_client_sends_a_clear_user_agent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_json({})
    client, _ = client_for(RatePolicy(min_interval=0), FakeClock())
    client.get(httpserver.url_for("/x"))
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith("mutualise/")
    assert "open procurement data fetcher" in request.headers["User-Agent"]
    assert isinstance(client.http.timeout, httpx.Timeout)
    assert client.http.timeout.read == 60.0


def test_not_a_url_is_a_clear_error() -> None:
    client, _ = client_for(RatePolicy(min_interval=0), FakeClock())
    with pytest.raises(FetchError, match="not an http"):
        client.get("ftp://example.test/file")
