"""The portal in a real browser: Debian's Chromium, driven by Playwright, against the live server, signing in
through the real OpenLDAP directory (never `playwright install`: the system Chromium is used)."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import GroupMapping, Team
from tests.browser.support import ALICE, sign_in
from tests.helpers import require_env
from topics.models import Namespace, RetentionClass

pytestmark = [pytest.mark.ldap, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path("/tmp/logwarden-browser.png")


@pytest.fixture
def catalogue():
    """The team of alice's LDAP group and a few namespaces (rows only: nothing is synced to the broker)."""
    require_env("LDAP_URI")
    payments = Team.objects.create(slug="payments", name="Payments")
    checkout = Team.objects.create(slug="checkout", name="Checkout")
    GroupMapping.objects.create(ldap_group="team-payments", team=payments)
    long, _ = RetentionClass.objects.get_or_create(name="long", defaults={"retention_ms": 30 * 86_400_000})
    standard, _ = RetentionClass.objects.get_or_create(name="standard", defaults={"retention_ms": 7 * 86_400_000})
    Namespace.objects.create(name="payments-ledger", owner_team=payments, retention_class=long,
                             sensitivity="high", description="Double-entry ledger of card payments",
                             labels={"app": "ledger", "tier": "backend"})
    Namespace.objects.create(name="payments-api", owner_team=payments, retention_class=standard)
    Namespace.objects.create(name="checkout-web", owner_team=checkout, retention_class=standard)


def test_alice_signs_in_finds_a_namespace_and_sees_its_owner_and_retention(live_server, page):
    page.goto(f"{live_server.url}/namespaces/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/namespaces/")

    sign_in(page, ALICE)

    expect(page.get_by_role("heading", name="Namespaces")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Alice Andersen")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Search").fill("ledger")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("payments-ledger")
    expect(rows.first).to_contain_text("Payments")
    expect(rows.first).to_contain_text("30 days")

    rows.first.get_by_role("link", name="payments-ledger").click()
    expect(page.get_by_role("heading", name="payments-ledger")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Owner team")
    expect(facts.get_by_role("link", name="Payments")).to_have_attribute("href", "/teams/payments/")
    expect(page.get_by_role("heading", name="Retention: long")).to_be_visible()
    expect(page.locator(".retention-summary")).to_contain_text("30 days")
    expect(page.locator("body")).to_contain_text("2592000000")  # retention.ms, as set on the topic
    expect(page.get_by_text("Edit", exact=True)).to_have_count(0)  # alice is no platform admin

    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
