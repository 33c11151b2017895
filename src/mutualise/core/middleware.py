"""Two-factor sign-in, enforced on every page (after django-otp's OTPMiddleware).

A person who has turned two-factor sign-in on and has entered only their password is signed in
but not verified: every page except the few below sends them to enter their security code.
When MUTUALISE_REQUIRE_STAFF_2FA is on, staff roles without an authenticator app are sent to
set one up first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from mutualise.core import two_factor

# Pages a half-signed-in person may still open: finishing sign-in or set-up, signing out, and
# the pages that say what the service does with their data.
OPEN_BEFORE_CODE = frozenset(
    {
        "core:two-factor-verify",
        "core:sign-out",
        "core:privacy",
        "core:accessibility",
        "core:health",
    }
)
OPEN_BEFORE_SETUP = OPEN_BEFORE_CODE | {
    "core:two-factor-setup",
    "core:two-factor-recovery-codes",
    "core:account",
}


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        name = f"{match.namespace}:{match.url_name}" if match and match.namespace else ""
        if match is not None and match.namespace == "api":
            return None  # the open data API is public and read-only
        verified = getattr(user, "is_verified", None)
        if verified is not None and verified():
            return None
        if two_factor.is_on(user):
            if name in OPEN_BEFORE_CODE:
                return None
            return _redirect("core:two-factor-verify", request)
        if two_factor.required_for(user) and name not in OPEN_BEFORE_SETUP:
            return _redirect("core:two-factor-setup", request)
        return None


def _redirect(name: str, request: HttpRequest) -> HttpResponse:
    target = reverse(name)
    if request.method == "GET":
        target += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(target)


class ApiErrorsAsJson:
    """Errors under /api/ answer in JSON, as the rest of the API does.

    Django's own 404/405/500 responses (an unknown path, a method a route does not allow, a
    crash) are HTML pages; an API client should get `{"detail": …}` with the same status.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            replacement = JsonResponse(
                {"detail": response.reason_phrase}, status=response.status_code
            )
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response
