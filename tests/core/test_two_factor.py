"""Two-factor sign-in: set-up, the code after the password, recovery codes, lock-out, turning
it off, the administrator's requirement, and the audit trail. Codes are computed from the
secret with django_otp.oath.totp, as an authenticator app would."""

from __future__ import annotations

import datetime as dt
import re
from binascii import unhexlify
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualise.core import two_factor
from mutualise.core.models import AuditEvent, TwoFactorThrottle
from tests.factories import UserFactory, grant

PASSWORD = "correct horse battery staple"
SETUP = reverse("core:two-factor-setup")
VERIFY = reverse("core:two-factor-verify")
CODES = reverse("core:two-factor-recovery-codes")
TURN_OFF = reverse("core:two-factor-turn-off")
ACCOUNT = reverse("core:account")
PIPELINE = reverse("journeys:pipeline")


@pytest.fixture(autouse=True)
def _no_static_scan(settings):
    """Each test client loads the middleware again; WhiteNoise would scan every front-end file
    each time (about a second). These tests read pages, not static files."""
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False


def code(key: str, steps_ahead: int = 0) -> str:
    """The app's code for the current time step (or one ahead: the step after a code just used
    is still accepted, so a test never waits 30 seconds for a fresh one)."""
    return f"{totp(unhexlify(key), drift=steps_ahead):06d}"


def wrong(key: str) -> str:
    right = {code(key, s) for s in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in right)


def actions(user) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(user.pk), action__startswith="two_factor.")
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.fixture
def enrolled(db):
    """An officer with two-factor sign-in on, and their recovery codes."""
    user = grant(UserFactory(username="officer2fa"), "programme_officer")
    key = two_factor.new_secret()
    codes = two_factor.turn_on(user, key, code(key))
    return user, key, codes


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post(reverse("core:sign-in"), {"username": username, "password": password})


# --- who is offered it ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "offered"),
    [
        ("programme_officer", True),
        ("administrator", True),
        ("assessor", True),
        ("ambassador", True),
        ("staff_group_member", False),
        ("mutual_leader", False),
    ],
)
def test_offered_to_staff_roles_only(client, staff_group, role, offered):
    scoped = role in {"staff_group_member", "mutual_leader"}
    user = grant(UserFactory(), role, staff_group if scoped else None)
    assert two_factor.offered_to(user) is offered
    client.force_login(user)
    page = client.get(ACCOUNT).content.decode()
    assert ("Set up two-factor sign-in" in page) is offered
    assert client.get(SETUP).status_code == (200 if offered else 403)


# --- set-up --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_setup_shows_an_inline_svg_qr_code_and_the_secret_for_typing(officer_client):
    response = officer_client.get(SETUP)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<svg role="img"' in page and "<title>QR code for your authenticator app</title>" in page
    assert "data:" not in page and "<script>" not in page
    key = officer_client.session["two_factor_pending_key"]
    assert two_factor.secret_for_typing(key) in page
    # the same secret on every visit until set-up is finished
    officer_client.get(SETUP)
    assert officer_client.session["two_factor_pending_key"] == key


def test_the_secret_for_typing_is_base32_in_groups_of_four():
    key = "3132333435363738393031323334353637383930"  # RFC 6238's "12345678901234567890"
    assert two_factor.secret_for_typing(key) == "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"


@pytest.mark.django_db
def test_provisioning_uri_names_the_service_and_the_person(officer):
    key = "3132333435363738393031323334353637383930"
    uri = two_factor.provisioning_uri(officer, key)
    assert uri.startswith("otpauth://totp/Mutualise%3Aofficer?")
    assert "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" in uri and "issuer=Mutualise" in uri


@pytest.mark.django_db
def test_a_wrong_code_at_setup_gets_an_error_summary_and_turns_nothing_on(officer_client, officer):
    officer_client.get(SETUP)
    key = officer_client.session["two_factor_pending_key"]
    response = officer_client.post(SETUP, {"code": wrong(key)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and "<title>Error: Set up" in page
    assert "The security code is not right" in page
    assert 'aria-invalid="true"' in page
    assert not TOTPDevice.objects.filter(user=officer).exists()
    for bad, message in [
        ("", "Enter the security code"),
        ("12345", "Enter the 6-digit code from your authenticator app"),
    ]:
        page = officer_client.post(SETUP, {"code": bad}).content.decode()
        assert message in page and "govuk-error-summary" in page


@pytest.mark.django_db
def test_setup_with_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once(
    officer_client, officer
):
    officer_client.get(SETUP)
    key = officer_client.session["two_factor_pending_key"]
    response = officer_client.post(SETUP, {"code": code(key)})
    assert response.status_code == 302 and response["Location"] == CODES
    device = TOTPDevice.objects.get(user=officer)
    assert device.confirmed and device.key == key
    page = officer_client.get(CODES).content.decode()
    shown = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
    assert len(shown) == 10 == len(set(shown))
    assert set(shown) == set(
        StaticToken.objects.filter(device__user=officer).values_list("token", flat=True)
    )
    # shown once: the next visit goes to the account page, with the codes nowhere on it
    again = officer_client.get(CODES)
    assert again.status_code == 302 and again["Location"] == ACCOUNT
    assert shown[0] not in officer_client.get(ACCOUNT).content.decode()
    # this session proved the code, so staff pages open without asking again
    assert officer_client.get(PIPELINE).status_code == 200
    assert actions(officer) == ["two_factor.turned_on"]
    assert "two_factor_pending_key" not in officer_client.session


@pytest.mark.django_db
def test_setup_when_already_on_goes_back_to_the_account_page(client, enrolled):
    user, _, _ = enrolled
    client.force_login(user)
    client.post(VERIFY, {"code": enrolled[2][0]})
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"] == ACCOUNT


# --- signing in ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_password_then_code_before_any_staff_page(client, enrolled):
    user, key, _ = enrolled
    response = sign_in(client, user.username)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    # signed in by password only: every staff page sends them to the code page
    held = client.get(PIPELINE)
    assert held.status_code == 302 and held["Location"] == f"{VERIFY}?next=%2Fjourneys%2F"
    assert client.get(ACCOUNT)["Location"].startswith(VERIFY)
    # a few pages stay open: the code page itself, the privacy notice, signing out
    assert client.get(VERIFY).status_code == 200
    assert client.get(reverse("core:privacy")).status_code == 200
    bad = client.post(VERIFY, {"code": wrong(key), "next": PIPELINE})
    assert bad.status_code == 200 and b"govuk-error-summary" in bad.content
    assert b"<title>Error: Enter your security code" in bad.content
    session_key = client.session.session_key
    good = client.post(VERIFY, {"code": code(key, 1), "next": PIPELINE})
    assert good.status_code == 302 and good["Location"] == PIPELINE
    assert client.session.session_key != session_key  # a new key once fully signed in
    assert client.get(PIPELINE).status_code == 200


@pytest.mark.django_db
def test_a_code_cannot_be_used_twice(enrolled):
    """The code that confirmed set-up is spent: replaying it at sign-in is refused."""
    user, key, _ = enrolled
    device = TOTPDevice.objects.get(user=user)
    used = (
        f"{totp(unhexlify(key), drift=device.last_t - int(timezone.now().timestamp()) // 30):06d}"
    )
    with pytest.raises(two_factor.TwoFactorError, match="not right"):
        two_factor.verify(user, used)


@pytest.mark.django_db
def test_next_must_stay_on_this_site(client, enrolled):
    user, key, _ = enrolled
    sign_in(client, user.username)
    response = client.post(VERIFY, {"code": code(key, 1), "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_a_recovery_code_signs_in_once(client, enrolled):
    user, _, codes = enrolled
    sign_in(client, user.username)
    response = client.post(VERIFY, {"code": codes[0].upper()[:4] + "-" + codes[0][4:]})
    assert response.status_code == 302
    assert two_factor.recovery_codes_left(user) == 9
    assert client.get(PIPELINE).status_code == 200
    client.post(reverse("core:sign-out"))
    sign_in(client, user.username)
    again = client.post(VERIFY, {"code": codes[0]})
    assert again.status_code == 200 and b"has been used" in again.content
    assert actions(user) == ["two_factor.turned_on", "two_factor.recovery_code_used"]


@pytest.mark.django_db
def test_people_without_two_factor_sign_in_as_before(client, officer):
    response = sign_in(client, officer.username)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(PIPELINE).status_code == 200
    assert client.get(VERIFY)["Location"] == "/"


# --- rate limit ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_four_wrong_codes_then_the_right_one_is_accepted(enrolled):
    user, key, _ = enrolled
    for _ in range(4):
        with pytest.raises(two_factor.TwoFactorError):
            two_factor.verify(user, wrong(key))
    two_factor.verify(user, code(key, 1))
    assert TwoFactorThrottle.objects.get(user=user).failures == 0


@pytest.mark.django_db
def test_five_wrong_codes_lock_code_entry_for_15_minutes(client, enrolled):
    user, key, _ = enrolled
    sign_in(client, user.username)
    for _ in range(5):
        client.post(VERIFY, {"code": wrong(key)})
    locked = client.post(VERIFY, {"code": code(key, 1)})  # even the right code, now
    assert locked.status_code == 200
    assert b"You have entered a wrong security code too many times. Wait 15 minutes" in (
        locked.content
    )
    assert b"govuk-error-summary" in locked.content
    assert client.get(PIPELINE).status_code == 302
    assert actions(user) == ["two_factor.turned_on", "two_factor.locked_out"]
    # just inside the 15 minutes: still locked; just outside: the right code works
    throttle = TwoFactorThrottle.objects.get(user=user)
    throttle.last_failure_at = timezone.now() - dt.timedelta(minutes=14, seconds=50)
    throttle.save()
    with pytest.raises(two_factor.LockedOut, match="Wait 1 minute,"):
        two_factor.verify(user, code(key, 1))
    throttle.last_failure_at = timezone.now() - dt.timedelta(minutes=15, seconds=1)
    throttle.save()
    assert client.post(VERIFY, {"code": code(key, 1)}).status_code == 302
    assert client.get(PIPELINE).status_code == 200


@pytest.mark.django_db
def test_wrong_codes_older_than_the_lockout_period_are_forgotten(enrolled):
    user, key, _ = enrolled
    TwoFactorThrottle.objects.update_or_create(
        user=user,
        defaults={"failures": 4, "last_failure_at": timezone.now() - dt.timedelta(minutes=16)},
    )
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.verify(user, wrong(key))
    assert TwoFactorThrottle.objects.get(user=user).failures == 1
    assert two_factor.locked_until(user) is None


# --- turning it off ------------------------------------------------------------------------


@pytest.mark.django_db
def test_turning_off_needs_a_current_code(client, enrolled):
    user, key, _ = enrolled
    client.force_login(user)
    client.post(VERIFY, {"code": code(key, 1)})
    bad = client.post(TURN_OFF, {"code": wrong(key)})
    assert bad.status_code == 200 and b"govuk-error-summary" in bad.content
    assert two_factor.is_on(user)
    empty = client.post(TURN_OFF, {"code": ""})
    assert b"Enter the security code" in empty.content
    # the step after the sign-in code
    good = client.post(TURN_OFF, {"code": code(key, 2)})
    assert good.status_code == 302 and good["Location"] == ACCOUNT
    assert not two_factor.is_on(user)
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert actions(user) == ["two_factor.turned_on", "two_factor.turned_off"]
    assert b"Set up two-factor sign-in" in client.get(ACCOUNT).content


# --- the administrator's requirement --------------------------------------------------------


@pytest.mark.django_db
def test_required_sends_staff_without_an_app_to_set_up(client, settings, officer, member):
    settings.MUTUALISE_REQUIRE_STAFF_2FA = True
    response = sign_in(client, officer.username)
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    held = client.get(PIPELINE)
    assert held.status_code == 302 and held["Location"].startswith(SETUP)
    assert client.get(SETUP).status_code == 200
    assert b"Your programme requires staff to use two-factor sign-in" in client.get(SETUP).content
    # members of a group are not staff: signing in is as before
    client.post(reverse("core:sign-out"))
    assert sign_in(client, member.username)["Location"] == "/"
    assert client.get(reverse("journeys:mine")).status_code in (200, 302)
    assert not client.get(reverse("journeys:mine")).get("Location", "").startswith(SETUP)


@pytest.mark.django_db
def test_required_means_it_cannot_be_turned_off(client, settings, enrolled):
    settings.MUTUALISE_REQUIRE_STAFF_2FA = True
    user, key, _ = enrolled
    client.force_login(user)
    client.post(VERIFY, {"code": code(key, 1)})
    page = client.get(TURN_OFF).content.decode()
    assert "cannot turn it off" in page and "<form" not in page.split("<main")[1]
    client.post(TURN_OFF, {"code": code(key, 2)})
    assert two_factor.is_on(user)
    with pytest.raises(two_factor.TwoFactorError, match="requires"):
        two_factor.turn_off(user, code(key, 2))


# --- the administrator's reset and erasure ---------------------------------------------------


@pytest.mark.django_db
def test_reset_command_turns_it_off_and_is_audited(enrolled):
    user, _, _ = enrolled
    out = StringIO()
    call_command("reset_two_factor", user.username, stdout=out)
    assert "Two-factor sign-in is off for officer2fa" in out.getvalue()
    assert not two_factor.is_on(user)
    assert actions(user)[-1] == "two_factor.reset"
    with pytest.raises(CommandError, match="does not have two-factor"):
        call_command("reset_two_factor", user.username)
    with pytest.raises(CommandError, match="no user"):
        call_command("reset_two_factor", "nobody")


@pytest.mark.django_db
def test_erasure_removes_the_devices(enrolled):
    from mutualise.core import personal_data

    user, _, _ = enrolled
    personal_data.erase(user)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
