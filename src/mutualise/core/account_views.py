"""The signed-in person's account page and two-factor sign-in: set up, recovery codes, the
security code page after the password, and turning it off. State changes are in two_factor."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from mutualise.core import two_factor
from mutualise.core.forms import SecurityCodeForm
from mutualise.core.roles import Role

PENDING_KEY = "two_factor_pending_key"
NEW_CODES = "two_factor_new_recovery_codes"
AFTER_CODES = "two_factor_after_recovery_codes"


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    offered = two_factor.offered_to(user)
    context = {
        "roles": sorted(Role(r).label for r in user.roles()),
        "two_factor_offered": offered,
        "two_factor_on": offered and two_factor.is_on(user),
        "two_factor_required": two_factor.required_for(user),
        "recovery_codes_left": two_factor.recovery_codes_left(user) if offered else 0,
    }
    if not offered and two_factor.is_on(user):  # a former staff member can still turn it off
        context["two_factor_on"] = True
    return render(request, "core/account.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not two_factor.offered_to(user):
        raise PermissionDenied("Two-factor sign-in is for staff roles")
    next_url = safe_next(request, reverse("core:account"))
    if two_factor.is_on(user):
        messages.info(request, "Two-factor sign-in is already on")
        return redirect("core:account")
    key: str = request.session.get(PENDING_KEY) or ""
    if not two_factor.is_valid_secret(key):
        key = two_factor.new_secret()
        request.session[PENDING_KEY] = key
    form = SecurityCodeForm(
        request.POST or None,
        label="Enter the 6-digit code your app shows",
        help_text="The code changes every 30 seconds.",
        numeric=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.turn_on(user, key, form.cleaned_data["code"])
        except two_factor.TwoFactorError as exc:
            form.add_error("code", str(exc))
        else:
            request.session.pop(PENDING_KEY, None)
            device = two_factor.app_device(user)
            django_otp.login(request, device)  # this session has just proved the code
            request.session[NEW_CODES] = codes
            request.session[AFTER_CODES] = next_url
            return redirect("core:two-factor-recovery-codes")
    uri = two_factor.provisioning_uri(user, key)
    return render(
        request,
        "core/two_factor_setup.html",
        {
            "form": form,
            "qr_code": mark_safe(two_factor.qr_code_svg(uri)),  # noqa: S308 - segno's own markup
            "secret": two_factor.secret_for_typing(key),
            "next": next_url,
            "required": two_factor.required_for(user),
        },
    )


@login_required
@require_GET
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Shown once, straight after set-up; the codes are not kept anywhere they can be re-read."""
    codes = request.session.pop(NEW_CODES, None)
    next_url = request.session.pop(AFTER_CODES, None) or reverse("core:account")
    if not codes:
        return redirect("core:account")
    return render(
        request, "core/two_factor_recovery_codes.html", {"codes": codes, "next": next_url}
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second sign-in page: the password was right, now the security code."""
    user: Any = request.user
    next_url = safe_next(request, reverse("core:home"))
    if not two_factor.is_on(user) or user.is_verified():
        return redirect(next_url)
    form = SecurityCodeForm(
        request.POST or None,
        label="Enter the security code",
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )
    locked = two_factor.locked_until(user)
    if request.method == "POST" and form.is_valid():
        try:
            result = two_factor.verify(user, form.cleaned_data["code"])
        except two_factor.TwoFactorError as exc:
            form.add_error("code", str(exc))
        else:
            django_otp.login(request, result.device)
            request.session.cycle_key()  # a fully signed-in session gets a new key
            if result.used_recovery_code:
                messages.warning(
                    request,
                    f"You used a recovery code. You have {result.recovery_codes_left} left. "
                    "If you have lost your phone, turn two-factor sign-in off and on again "
                    "from your account page to get new codes.",
                )
            return redirect(next_url)
        locked = two_factor.locked_until(user)
    return render(
        request,
        "core/two_factor_verify.html",
        {
            "form": form,
            "next": next_url,
            "locked_message": two_factor.lockout_message(locked) if locked else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_turn_off(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not two_factor.is_on(user):
        return redirect("core:account")
    required = two_factor.required_for(user)
    form = SecurityCodeForm(
        request.POST or None,
        label="Enter a security code to confirm",
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )
    if request.method == "POST" and not required and form.is_valid():
        try:
            two_factor.turn_off(user, form.cleaned_data["code"])
        except two_factor.TwoFactorError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, "Two-factor sign-in is off")
            return redirect("core:account")
    return render(request, "core/two_factor_turn_off.html", {"form": form, "required": required})
