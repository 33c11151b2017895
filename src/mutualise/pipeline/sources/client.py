"""A polite HTTP client: one request at a time, spaced, with bounded retries.

Every wait goes through an injectable `Clock`, so tests run at full speed and can assert
exactly how long the client would have waited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from importlib import metadata

import httpx

from .clock import Clock, SystemClock
from .errors import FetchError, NetworkError, PermanentHttpError, RateLimitExhausted


def _version() -> str:
    try:
        return metadata.version("mutualise")
    except metadata.PackageNotFoundError:
        return "dev"


USER_AGENT = (
    f"mutualise/{_version()} (open procurement data fetcher for public service mutuals "
    f"research; one request at a time) httpx/{httpx.__version__}"
)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=15.0)

# Called with (seconds, reason) just before a wait imposed by the server or by a retry.
WaitListener = Callable[[float, str], None]


@dataclass(frozen=True)
class RatePolicy:
    """How politely to talk to one service."""

    # Minimum seconds between the starts of two requests.
    min_interval: float = 1.0
    # Statuses that mean "slow down": wait, then repeat the same request.
    rate_limit_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429}))
    # A fixed wait after a rate-limit status (Contracts Finder: 300 s); None means honour
    # Retry-After, else back off exponentially from `backoff_start`.
    fixed_wait: float | None = None
    backoff_start: float = 60.0
    backoff_max: float = 900.0
    max_rate_limit_waits: int = 8
    # Transient failures (network errors, timeouts, 5xx): bounded exponential backoff.
    max_retries: int = 5
    retry_backoff_start: float = 2.0
    retry_backoff_max: float = 60.0


def describe_url(url: str, params: Mapping[str, str] | None = None) -> str:
    try:
        return str(httpx.URL(url, params=dict(params)) if params else httpx.URL(url))
    except httpx.InvalidURL:
        return url


class PoliteClient:
    """Wraps an `httpx.Client`; sends one request at a time under a `RatePolicy`."""

    def __init__(
        self,
        policy: RatePolicy | None = None,
        *,
        clock: Clock | None = None,
        http: httpx.Client | None = None,
        on_wait: WaitListener | None = None,
    ) -> None:
        self.policy = policy or RatePolicy()
        self.clock = clock or SystemClock()
        self.http = http or httpx.Client(
            timeout=DEFAULT_TIMEOUT,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )
        self.on_wait = on_wait
        self.last_request_at: float | None = None
        self.rate_limit_waits = 0
        self.rate_limit_seconds = 0.0
        self.retries = 0
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """GET and read the whole body. Raises a `FetchError` subclass on failure."""
        return self.send("GET", url, params=params, stream=False)

    def open_stream(self, url: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """GET without reading the body; the caller must close the response."""
        return self.send("GET", url, headers=headers, stream=True)

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        shown = describe_url(url, params)
        rate_limit_waits = 0
        retries = 0
        while True:
            self._space_out()
            try:
                request = self.http.build_request(
                    method, url, params=dict(params) if params else None, headers=headers
                )
            except httpx.InvalidURL as exc:
                raise FetchError(f"not a valid URL: {url} ({exc})") from exc
            try:
                self.requests += 1
                response = self.http.send(request, stream=stream)
            except httpx.UnsupportedProtocol as exc:
                raise FetchError(f"not an http(s) URL: {shown}") from exc
            except httpx.TransportError as exc:
                retries += 1
                if retries > self.policy.max_retries:
                    reason = one_line(str(exc)) or type(exc).__name__
                    raise NetworkError(f"could not reach {shown}: {reason}") from exc
                self._retry_wait(retries, f"network error ({type(exc).__name__})")
                continue

            status = response.status_code
            if status in self.policy.rate_limit_statuses:
                retry_after = response.headers.get("Retry-After")
                response.close()
                rate_limit_waits += 1
                if rate_limit_waits > self.policy.max_rate_limit_waits:
                    raise RateLimitExhausted(
                        f"still rate-limited (HTTP {status}) after "
                        f"{self.policy.max_rate_limit_waits} waits: {shown}"
                    )
                seconds = self._rate_limit_seconds(rate_limit_waits, retry_after)
                self._wait(seconds, f"rate limited (HTTP {status})")
                self.rate_limit_waits += 1
                self.rate_limit_seconds += seconds
                continue
            if status >= 500:
                response.close()
                retries += 1
                if retries > self.policy.max_retries:
                    raise NetworkError(
                        f"HTTP {status} from {shown} (gave up after {retries} attempts)"
                    )
                self._retry_wait(retries, f"server error (HTTP {status})")
                continue
            if status >= 400:
                reason = response.reason_phrase
                response.close()
                raise PermanentHttpError(shown, status, reason)
            return response

    def _space_out(self) -> None:
        if self.last_request_at is not None:
            since = self.clock.monotonic() - self.last_request_at
            if since < self.policy.min_interval:
                self.clock.sleep(self.policy.min_interval - since)
        self.last_request_at = self.clock.monotonic()

    def _rate_limit_seconds(self, attempt: int, retry_after: str | None) -> float:
        policy = self.policy
        if policy.fixed_wait is not None:
            return policy.fixed_wait
        parsed = self._parse_retry_after(retry_after)
        if parsed is not None:
            return min(max(parsed, 1.0), policy.backoff_max)
        return min(policy.backoff_start * 2 ** (attempt - 1), policy.backoff_max)

    def _parse_retry_after(self, value: str | None) -> float | None:
        if not value:
            return None
        value = value.strip()
        try:
            return float(value)
        except ValueError:
            pass
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        return (moment - self.clock.utcnow()).total_seconds()

    def _retry_wait(self, attempt: int, reason: str) -> None:
        policy = self.policy
        seconds = min(policy.retry_backoff_start * 2 ** (attempt - 1), policy.retry_backoff_max)
        self.retries += 1
        self._wait(seconds, f"{reason}; retry {attempt} of {policy.max_retries}")

    def _wait(self, seconds: float, reason: str) -> None:
        if self.on_wait is not None:
            self.on_wait(seconds, reason)
        self.clock.sleep(seconds)


def one_line(text: str) -> str:
    return " ".join(text.split())
