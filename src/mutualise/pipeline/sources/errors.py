"""Errors a fetch can stop with. Each message is one line, fit to show a user as is."""

from __future__ import annotations


class FetchError(Exception):
    """A fetch stopped; the message says why in one line."""


class PermanentHttpError(FetchError):
    """The server refused the request in a way retrying will not fix (a 4xx)."""

    def __init__(self, url: str, status: int, reason: str = "") -> None:
        self.url = url
        self.status = status
        detail = f" {reason}" if reason else ""
        super().__init__(f"HTTP {status}{detail} from {url}")


class RateLimitExhausted(FetchError):
    """The server kept rate-limiting after the allowed number of waits."""


class NetworkError(FetchError):
    """The server could not be reached (or kept failing) after the allowed retries."""


class FetchBusy(FetchError):
    """Another fetch of the same source is running."""
