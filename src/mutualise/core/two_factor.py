"""Two-factor sign-in for staff roles: an authenticator app (TOTP) plus one-time recovery codes.

State changes happen only here (DESIGN.md rule 1); views call these functions. django-otp holds
the devices (``TOTPDevice`` for the app, ``StaticDevice`` with ``StaticToken`` rows for the
recovery codes) and marks a session as verified; this module decides who may use it, counts
wrong codes and writes the audit log. See docs/adr/0010-two-factor.md.
"""

from __future__ import annotations

import re
import time
from base64 import b32encode
from binascii import unhexlify
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from mutualise.core import audit
from mutualise.core.models import TwoFactorThrottle, User
from mutualise.core.roles import TWO_FACTOR_ROLES

MAX_WRONG_CODES = 5
LOCKOUT = timedelta(minutes=15)
RECOVERY_CODE_COUNT = 10
TOTP_DIGITS = 6
TOTP_STEP = 30
TOTP_TOLERANCE = 1  # the code before and after the current one, for clocks a little out
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

_SEPARATORS = re.compile(r"[\s-]+")
_TOTP_CODE = re.compile(r"^\d{6}$")
_RECOVERY_CODE = re.compile(r"^[a-z2-7]{8}$")


class TwoFactorError(ValueError):
    """A code was not accepted; the message says why, in words for the person."""


class LockedOut(TwoFactorError):
    pass


WRONG_CODE = "The security code is not right. Check your authenticator app and try again"


# --- who ---------------------------------------------------------------------------------


def offered_to(user: Any) -> bool:
    """Staff roles (people who act programme-wide) may turn on two-factor sign-in."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.roles() & TWO_FACTOR_ROLES)


def required_for(user: Any) -> bool:
    return bool(getattr(settings, "MUTUALISE_REQUIRE_STAFF_2FA", False)) and offered_to(user)


def app_device(user: Any) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if they have turned two-factor sign-in on."""
    if not getattr(user, "is_authenticated", False):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_on(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    )


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- what set-up shows ----------------------------------------------------------------------


def new_secret() -> str:
    """A new shared secret: 20 random bytes, hex-encoded (as TOTPDevice.key stores it)."""
    return str(random_hex(20))


def is_valid_secret(key: Any) -> bool:
    return isinstance(key, str) and re.fullmatch(r"[0-9a-f]{40}", key) is not None


def secret_for_typing(key: str) -> str:
    """The secret in base32, in groups of four, for people who type it into their app."""
    encoded = b32encode(unhexlify(key)).decode("ascii")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def provisioning_uri(user: User, key: str) -> str:
    """The otpauth:// address the QR code holds (issuer, account name, secret)."""
    device = TOTPDevice(
        user=user, key=key, digits=TOTP_DIGITS, step=TOTP_STEP, tolerance=TOTP_TOLERANCE
    )
    return str(device.config_url)


def qr_code_svg(uri: str) -> str:
    """The QR code as inline SVG markup: paths only, no script, no style attribute (strict CSP)."""
    code = segno.make(uri, error="m")
    svg = str(
        code.svg_inline(
            scale=5,
            border=4,
            dark="#0b0c0c",
            light="#ffffff",
            title="QR code for your authenticator app",
            svgclass="app-qr-code",
            lineclass=None,
        )
    )
    return svg.replace("<svg ", '<svg role="img" focusable="false" ', 1)


# --- codes ---------------------------------------------------------------------------------


def normalise_code(raw: str) -> str:
    return _SEPARATORS.sub("", raw or "").lower()


def is_app_code(code: str) -> bool:
    return _TOTP_CODE.match(code) is not None


def is_recovery_code(code: str) -> bool:
    return _RECOVERY_CODE.match(code) is not None


def locked_until(user: User) -> Any:
    """When the person may try codes again, or None if they may now."""
    throttle = TwoFactorThrottle.objects.filter(user=user).first()
    return _locked_until(throttle)


def _locked_until(throttle: TwoFactorThrottle | None) -> Any:
    if throttle is None or throttle.last_failure_at is None:
        return None
    if throttle.failures < MAX_WRONG_CODES:
        return None
    until = throttle.last_failure_at + LOCKOUT
    return until if timezone.now() < until else None


def lockout_message(until: Any) -> str:
    minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"You have entered a wrong security code too many times. Wait {minutes} {unit}, "
        "then try again"
    )


def _throttle_for_update(user: User) -> TwoFactorThrottle:
    throttle, _ = TwoFactorThrottle.objects.select_for_update().get_or_create(user=user)
    return throttle


def _check_not_locked(throttle: TwoFactorThrottle) -> None:
    until = _locked_until(throttle)
    if until is not None:
        raise LockedOut(lockout_message(until))


def _count_wrong_code(user: User, throttle: TwoFactorThrottle, where: str) -> None:
    """Add one wrong code; the fifth within the lock-out period locks code entry."""
    now = timezone.now()
    if throttle.last_failure_at is not None and now - throttle.last_failure_at >= LOCKOUT:
        throttle.failures = 0  # the earlier run of wrong codes has expired
    throttle.failures += 1
    throttle.last_failure_at = now
    throttle.save(update_fields=["failures", "last_failure_at"])
    if throttle.failures == MAX_WRONG_CODES:
        audit.record(
            actor=user,
            action="two_factor.locked_out",
            obj=user,
            after={
                "wrong_codes": throttle.failures,
                "where": where,
                "minutes": int(LOCKOUT.total_seconds() // 60),
            },
        )


def _clear_wrong_codes(throttle: TwoFactorThrottle) -> None:
    if throttle.failures or throttle.last_failure_at:
        throttle.failures = 0
        throttle.last_failure_at = None
        throttle.save(update_fields=["failures", "last_failure_at"])


def _matching_step(key: str, code: str) -> int | None:
    """The time step whose code is ``code`` (within the tolerance), or None."""
    totp = TOTP(unhexlify(key), step=TOTP_STEP, t0=0, digits=TOTP_DIGITS, drift=0)
    totp.time = time.time()
    if totp.verify(int(code), tolerance=TOTP_TOLERANCE):
        return int(totp.t())
    return None


@dataclass(frozen=True)
class Verified:
    device: Any
    used_recovery_code: bool
    recovery_codes_left: int


def _outcome(result: Verified | TwoFactorError) -> Verified:
    """Raise a refusal only after its transaction committed, so the count of wrong codes
    (and the lock-out's audit event) is kept, not rolled back with the exception."""
    if isinstance(result, TwoFactorError):
        raise result
    return result


# --- the changes ----------------------------------------------------------------------------


def turn_on(user: User, key: str, raw_code: str) -> list[str]:
    """Confirm the app with a code made from ``key``; return the new recovery codes.

    The codes are returned once, to be shown once; only django-otp's token rows keep them.
    """
    if not offered_to(user):
        raise TwoFactorError("Two-factor sign-in is for staff roles only")
    if not is_valid_secret(key):
        raise TwoFactorError("The set-up has expired. Start again")
    code = normalise_code(raw_code)
    if not is_app_code(code):
        raise TwoFactorError("Enter the 6-digit code from your authenticator app")
    codes: list[str] = []
    result: Verified | TwoFactorError
    with transaction.atomic():
        throttle = _throttle_for_update(user)
        _check_not_locked(throttle)
        step = _matching_step(key, code)
        if step is None:
            _count_wrong_code(user, throttle, "set-up")
            result = TwoFactorError(WRONG_CODE)
        else:
            _clear_wrong_codes(throttle)
            TOTPDevice.objects.filter(user=user).delete()
            StaticDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(
                user=user,
                name=APP_DEVICE_NAME,
                key=key,
                digits=TOTP_DIGITS,
                step=TOTP_STEP,
                tolerance=TOTP_TOLERANCE,
                confirmed=True,
                last_t=step,  # no replay of this code
            )
            recovery = StaticDevice.objects.create(
                user=user, name=RECOVERY_DEVICE_NAME, confirmed=True
            )
            while len(codes) < RECOVERY_CODE_COUNT:
                token = StaticToken.random_token()
                if token not in codes:
                    codes.append(token)
            StaticToken.objects.bulk_create(
                [StaticToken(device=recovery, token=token) for token in codes]
            )
            audit.record(
                actor=user,
                action="two_factor.turned_on",
                obj=user,
                after={"device": device.persistent_id, "recovery_codes": RECOVERY_CODE_COUNT},
            )
            result = Verified(device, used_recovery_code=False, recovery_codes_left=len(codes))
    _outcome(result)
    return codes


def verify(user: User, raw_code: str, *, where: str = "sign-in") -> Verified:
    """Check a code from the app, or a recovery code (used up once accepted)."""
    code = normalise_code(raw_code)
    if not (is_app_code(code) or is_recovery_code(code)):
        raise TwoFactorError(
            "Enter the 6-digit code from your authenticator app, or one of your recovery codes"
        )
    result: Verified | TwoFactorError
    with transaction.atomic():
        throttle = _throttle_for_update(user)
        _check_not_locked(throttle)
        if is_app_code(code):
            device = (
                TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
        else:
            device = (
                StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
        if device is None and is_app_code(code):
            raise TwoFactorError("Two-factor sign-in is not turned on for this account")
        if device is not None and device.verify_token(code):
            _clear_wrong_codes(throttle)
            left = recovery_codes_left(user)
            if isinstance(device, StaticDevice):
                audit.record(
                    actor=user,
                    action="two_factor.recovery_code_used",
                    obj=user,
                    after={"where": where, "recovery_codes_left": left},
                )
            result = Verified(device, isinstance(device, StaticDevice), left)
        else:
            _count_wrong_code(user, throttle, where)
            result = TwoFactorError(
                WRONG_CODE
                if is_app_code(code)
                else "That recovery code is not right or has been used. Check it and try again"
            )
    return _outcome(result)


def turn_off(user: User, raw_code: str) -> None:
    """Remove the app and the recovery codes; needs a current code (or a recovery code)."""
    if required_for(user):
        raise TwoFactorError("Your programme requires two-factor sign-in for staff roles")
    verify(user, raw_code, where="turn-off")
    with transaction.atomic():
        removed = [d.persistent_id for d in TOTPDevice.objects.filter(user=user)]
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record(
            actor=user, action="two_factor.turned_off", obj=user, before={"devices": removed}
        )


def remove_for_erasure(user: User) -> int:
    """Delete a person's devices when their account is anonymised (personal_data.erase)."""
    count = TOTPDevice.objects.filter(user=user).delete()[0]
    count += StaticDevice.objects.filter(user=user).delete()[0]
    TwoFactorThrottle.objects.filter(user=user).delete()
    return count


def reset(user: User, *, actor: User | None = None) -> int:
    """An administrator's reset for someone who lost their phone and their recovery codes."""
    with transaction.atomic():
        removed = [d.persistent_id for d in TOTPDevice.objects.filter(user=user)]
        count = remove_for_erasure(user)
        audit.record(actor=actor, action="two_factor.reset", obj=user, before={"devices": removed})
    return count
