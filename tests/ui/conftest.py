"""Browser tests of the web inspector: Playwright driving Debian's chromium (one browser per test module).

`make test` installs chromium when it is missing; these tests fail (never skip) without it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

# No network but loopback here: without these, chromium keeps trying to reach its own services.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1200, "height": 760}
# The machine may be busy (2 cores, the suite on both): waits are generous, they end as soon as the page is right.
expect.set_options(timeout=15_000)


def chromium_path() -> str:
    """The system chromium (Playwright's own browser download cannot be used here)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("The inspector's browser tests need chromium: run `make test` as root, or `apt-get install chromium`.")


# One browser per test module, not per session: while Playwright's sync API is open, its event loop counts as
# running in this thread, and an asyncio test that an xdist worker runs next would fail ("Cannot run the event loop
# while another loop is running"). pytest tears a module's fixtures down before it moves to another module's test.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (own context: no storage shared between tests); fails the test on a script error."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light", accept_downloads=True)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the inspector raised in the browser: {errors}"
