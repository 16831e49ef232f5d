"""The browser suites' page. Each suite writes its rows in a fixture named `catalogue`, which `page` asks for:
so every row is written before the browser starts."""
from __future__ import annotations

import pytest

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def page(catalogue):
    """A Chromium page. Playwright's sync API keeps an asyncio loop running in this thread, and inside it
    Django would open a second, never-closed database connection (and refuse ORM calls as async-unsafe):
    so the rows are all written first (by `catalogue`) and the test body makes no ORM call."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()
        browser.close()
