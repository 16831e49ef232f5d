"""The query page in a real browser (Debian's Chromium driven by Playwright against the live server): alice signs in
through the real OpenLDAP directory, queries the archived Parquet of the namespace she holds a grant on, pages
through the results, sees a refused escape on the form, and downloads the result as CSV."""
from __future__ import annotations

from datetime import date

import pytest
from django_auth_ldap.backend import LDAPBackend
from playwright.sync_api import expect

from accounts.models import GroupMapping, Team
from portal.core.audit import SYSTEM
from tests.browser.support import ALICE, sign_in
from tests.factories import default_policies
from tests.helpers import require_env
from tests.topics.query.archive_files import live_grant, records, temporary_store, write
from topics.catalogue.services import register_namespace
from topics.models import RetentionClass

pytestmark = [pytest.mark.ldap, pytest.mark.django_db(transaction=True)]

DAY = date(2026, 11, 24)


@pytest.fixture
def store(settings, tmp_path):
    with temporary_store(settings, tmp_path / "archive") as archive:
        yield archive


@pytest.fixture
def catalogue(store):
    """alice holds a live grant on payments, which has 60 archived records; checkout is archived too, ungranted.
    Written before the browser starts (see tests/browser/conftest.py)."""
    require_env("LDAP_URI", "KAFKA_BOOTSTRAP")
    default_policies()
    payments = Team.objects.create(slug="payments", name="Payments")
    GroupMapping.objects.create(ldap_group="team-payments", team=payments)
    RetentionClass.objects.get_or_create(name="standard", defaults={"retention_ms": 7 * 86_400_000})
    namespace = register_namespace(SYSTEM, name="payments", owner_team=payments)
    register_namespace(SYSTEM, name="checkout", owner_team=payments)
    live_grant(LDAPBackend().populate_user(ALICE.uid), namespace)
    write(store, "payments", DAY, records("payments", DAY, count=60))
    write(store, "checkout", DAY, records("checkout", DAY, count=7))


def test_a_granted_user_queries_pages_and_downloads(live_server, page, tmp_path):
    page.goto(f"{live_server.url}/query/")
    sign_in(page, ALICE)
    expect(page.get_by_role("heading", name="Query the archive")).to_be_visible()
    expect(page.get_by_role("cell", name="container_name", exact=True)).to_be_visible()

    page.get_by_label("SQL").fill('SELECT namespace, "offset", pod_name FROM logs ORDER BY "offset"')
    page.get_by_role("button", name="Run").click()
    results = page.locator("#results")
    expect(results.get_by_role("cell", name="payments").first).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(50)
    expect(results).not_to_contain_text("checkout")

    page.get_by_role("button", name="Next").click()
    expect(results.locator("tbody tr")).to_have_count(10)
    expect(results.locator("tbody tr").first.locator("td").nth(1)).to_have_text("50")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "result.csv"
    download.value.save_as(saved)
    assert saved.read_text().splitlines()[:2] == ["namespace,offset,pod_name", "payments,0,api-0"]
    assert len(saved.read_text().splitlines()) == 61

    page.get_by_label("SQL").fill("SELECT * FROM read_parquet('/etc/passwd')")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".errorlist")).to_contain_text("disabled by configuration")
