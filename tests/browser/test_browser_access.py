"""Request → approval → grant in a real browser: Debian's Chromium driven by Playwright against the live server,
both people signing in through the real OpenLDAP directory, the approval reconciling the real broker."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django_auth_ldap.backend import LDAPBackend
from playwright.sync_api import expect

from accounts.models import GroupMapping, Role, Team
from portal.core.audit import SYSTEM
from tests.browser.support import ALICE, BOB, sign_in
from tests.factories import default_policies
from tests.helpers import require_env
from topics.catalogue.services import register_namespace
from topics.models import RetentionClass

pytestmark = [pytest.mark.ldap, pytest.mark.kafka, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path("/tmp/logwarden-access.png")


@pytest.fixture
def catalogue(celery_eager):
    """Team payments for LDAP group team-payments, the owner role for logwarden-owners, and namespace payments
    with its topic on the broker. `page` (tests/browser/conftest.py) asks for this fixture, so every row is written
    before the browser starts and the test body makes no ORM call. Tasks run in-process: the approval's
    reconcile provisions the grant on the real broker and leaves no task queued behind."""
    require_env("LDAP_URI", "KAFKA_BOOTSTRAP")
    payments = Team.objects.create(slug="payments", name="Payments")
    GroupMapping.objects.create(ldap_group="team-payments", team=payments)
    GroupMapping.objects.create(ldap_group="logwarden-owners", role=Role.NAMESPACE_OWNER)
    RetentionClass.objects.get_or_create(name="standard", defaults={"retention_ms": 7 * 86_400_000})
    default_policies()
    register_namespace(SYSTEM, name="payments", owner_team=payments, description="Card payments API")
    # the portal knows its people (and so who could approve a request) from the directory as of their sign-in:
    # bob, payments' owner, has signed in before alice asks
    LDAPBackend().populate_user(BOB.uid)


def test_alice_requests_access_bob_approves_it_and_sees_the_grant(live_server, page):
    page.goto(f"{live_server.url}/namespaces/payments/")
    sign_in(page, ALICE)
    page.get_by_role("link", name="Request access").click()

    expect(page.get_by_role("heading", name="Request access")).to_be_visible()
    expect(page.locator("#id_principal option:checked")).to_have_text("u.alice (you)")
    expect(page.locator("#id_namespaces option:checked")).to_have_text("payments — standard, up to 30 days")
    page.get_by_label("Reason").fill("Debug failed card payments of incident 4711")
    page.get_by_label("Duration in days").fill("7")
    page.get_by_role("button", name="Send request").click()

    expect(page.locator(".message.success")).to_contain_text("sent: the owners of each namespace decide on it")
    expect(page.locator("table.grid").first).to_contain_text("Pending")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, BOB)
    approvals = page.locator("header nav").get_by_role("link", name=re.compile("^Approvals"))
    expect(approvals.locator(".badge")).to_have_text("1")
    approvals.click()
    item = page.locator(".panel", has_text="Debug failed card payments")
    expect(item).to_contain_text("u.alice")
    expect(item).to_contain_text("0 of 1 approval")
    item.get_by_label("Comment").fill("OK for the incident, one week")
    item.get_by_role("button", name="Approve").click()

    expect(page.locator(".message.success")).to_contain_text("Approved: request #")
    expect(page.get_by_text("Nothing waits for your decision.")).to_be_visible()
    expect(approvals.locator(".badge")).to_have_count(0)
    page.locator("header nav").get_by_role("link", name="Grants").click()
    grant = page.locator("table.grid tbody tr", has_text="u.alice")
    expect(grant).to_have_count(1)
    expect(grant).to_contain_text("payments")
    expect(grant).to_contain_text("Active")
    expect(grant).to_contain_text("Approved request")
    expect(grant.get_by_role("link", name="Revoke")).to_be_visible()

    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
