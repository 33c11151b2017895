"""Browser helpers shared by the journeys."""

from typing import Any


def follow(locator: Any) -> None:
    """Click a link or submit button and wait for the page it leads to.

    A bare click returns before the next page has loaded, so an assertion made
    straight after it can read the old page or a blank one mid-navigation.
    """
    with locator.page.expect_navigation():
        locator.click()
