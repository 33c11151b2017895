"""End-to-end harness: a live server on the test database, Debian's Chromium driven by Playwright,
and an axe-core accessibility check for every page a journey visits."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are still
# synchronous and safe, so Django's async guard would only get in the way here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DEFAULT_PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Chromium is not installed: run `make test` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium_browser: Any) -> Iterator[Any]:
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    yield page
    context.close()
    assert not problems, "Browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def live_url(live_server: Any, transactional_db: Any) -> str:
    return str(live_server.url)


@pytest.fixture
def sign_in(live_url: str, check_accessibility: Any) -> Any:
    checked: set[int] = set()

    def _sign_in(page: Any, username: str, password: str = DEFAULT_PASSWORD) -> None:
        page.context.clear_cookies()
        page.goto(f"{live_url}/sign-in/")
        if id(page) not in checked:  # the sign-in page is visited by every journey: check it once
            check_accessibility(page)
            checked.add(id(page))
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert "/sign-in/" not in page.url, f"sign-in failed for {username}"

    return _sign_in


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS,
    )
    return list(result["violations"])


@pytest.fixture
def check_accessibility() -> Any:
    def _check(page: Any) -> None:
        violations = axe_violations(page)
        summary = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:5])
            for v in violations
        ]
        assert not violations, f"Accessibility violations on {page.url}:\n" + "\n".join(summary)

    return _check
