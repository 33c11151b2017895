"""Pages anyone can open, checked in a real browser for accessibility and a clean CSP."""

import pytest

from tests.e2e.helpers import follow

PUBLIC_PATHS = ["/", "/sign-in/", "/accessibility/", "/privacy/", "/no-such-page/"]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_page_is_accessible(browser_page, live_url, check_accessibility, path):
    browser_page.goto(live_url + path)
    assert browser_page.locator("h1").count() == 1
    check_accessibility(browser_page)


def test_sign_in_with_wrong_password_shows_error_summary(
    browser_page, live_url, check_accessibility
):
    from tests.factories import UserFactory

    UserFactory(username="someone")
    browser_page.goto(live_url + "/sign-in/")
    browser_page.fill("#id_username", "someone")
    browser_page.fill("#id_password", "not the password")
    follow(browser_page.get_by_role("button", name="Sign in"))
    assert browser_page.locator(".govuk-error-summary").is_visible()
    assert browser_page.title().startswith("Error:")
    check_accessibility(browser_page)
