"""An officer turns on two-factor sign-in, signs out, and signs in with password and code, in a
real browser with an accessibility check on every page. The codes come from the secret the
set-up page shows (as an authenticator app would read it) and from the stored device's key."""

from __future__ import annotations

import re
from base64 import b32decode

from django_otp.oath import totp

from tests.e2e.helpers import follow


def test_enrol_sign_out_and_sign_in_with_a_code(
    browser_page, live_url, sign_in, check_accessibility
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import UserFactory, grant

    officer = grant(UserFactory(username="officer-2fa"), "programme_officer")
    page = browser_page
    sign_in(page, officer.username)
    check_accessibility(page)

    follow(page.get_by_role("link", name="Your account"))
    assert page.locator("h1").inner_text() == "Your account"
    check_accessibility(page)

    follow(page.get_by_role("button", name="Set up two-factor sign-in"))
    assert page.locator("h1").inner_text() == "Set up two-factor sign-in"
    assert page.locator("svg.app-qr-code").is_visible()
    page.get_by_text("I cannot scan the QR code").click()
    check_accessibility(page)
    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    key = b32decode(secret)

    page.fill("#id_code", "000000" if totp(key) != 0 else "111111")
    follow(page.get_by_role("button", name="Turn on two-factor sign-in"))
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.title().startswith("Error:")
    check_accessibility(page)

    page.fill("#id_code", f"{totp(key):06d}")
    follow(page.get_by_role("button", name="Turn on two-factor sign-in"))
    assert page.locator("h1").inner_text() == "Two-factor sign-in is on"
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", c) for c in codes)
    check_accessibility(page)

    follow(page.get_by_role("button", name="I have saved my recovery codes"))
    assert "On" in page.locator("#two-factor + p").inner_text()
    check_accessibility(page)

    follow(page.get_by_role("button", name="Sign out"))
    check_accessibility(page)

    page.goto(f"{live_url}/sign-in/")
    page.fill("#id_username", officer.username)
    page.fill("#id_password", "correct horse battery staple")
    follow(page.get_by_role("button", name="Sign in"))
    assert "/sign-in/security-code/" in page.url
    assert page.locator("h1").inner_text() == "Enter your security code"
    check_accessibility(page)

    # password only: staff pages still ask for the code
    page.goto(f"{live_url}/journeys/")
    assert "/sign-in/security-code/" in page.url

    device = TOTPDevice.objects.get(user=officer)
    page.fill("#id_code", f"{totp(device.bin_key, drift=1):06d}")  # the step after set-up's
    follow(page.get_by_role("button", name="Continue"))
    assert page.url.endswith("/journeys/")
    assert page.locator("h1").count() == 1
    check_accessibility(page)
