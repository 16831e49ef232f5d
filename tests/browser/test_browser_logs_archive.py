"""A granted person searches a namespace's archived days from the logs page in a real browser: picks the archive
as the source, filters by text, pages older and back (the query suite's catalogue: 60 archived records of
payments, alice's grant)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import ALICE, sign_in
from tests.browser.test_browser_query import catalogue, store  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.ldap, pytest.mark.django_db(transaction=True)]


def test_alice_searches_the_archived_days_and_pages_through_them(live_server, page):
    page.goto(f"{live_server.url}/namespaces/payments/logs/")
    sign_in(page, ALICE)
    expect(page.get_by_role("heading", name="Logs of payments")).to_be_visible()

    page.get_by_label("Source").select_option("archive")
    page.get_by_label("Text").fill("/orders/")
    page.get_by_label("Per page").fill("20")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#log-records tr")
    expect(page.locator("#archive-source")).to_be_visible()
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("GET /orders/59 200")
    expect(rows.first).to_contain_text("api-0")

    page.get_by_role("link", name="Older →").click()
    expect(rows.first).to_contain_text("GET /orders/39 200")
    expect(rows.last).to_contain_text("GET /orders/20 200")
    page.get_by_role("link", name="← Newer").click()
    expect(rows.first).to_contain_text("GET /orders/59 200")
    expect(rows).to_have_count(20)
