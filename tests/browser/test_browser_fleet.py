"""A platform admin changes a shipper fleet's buffer in a real browser, sees the diff, applies it and sees the new
revision become live (Debian's Chromium, the live server, the real OpenLDAP directory and API server)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import GroupMapping, Role
from portal.core.audit import SYSTEM
from shipper.fleet import services
from tests.browser.support import DAVE, sign_in
from tests.factories import default_policies
from tests.fleet_helpers import make_fleet
from tests.helpers import require_env

pytestmark = [pytest.mark.ldap, pytest.mark.kube, pytest.mark.django_db(transaction=True)]
FLEET = "browser-fleet"


@pytest.fixture
def catalogue(kubeconfig, settings, unique):
    """dave's LDAP group makes him a platform admin; the fleet is applied once (revision 1 is live)."""
    require_env("LDAP_URI")
    settings.KUBECONFIG = kubeconfig
    default_policies()
    GroupMapping.objects.create(ldap_group="logwarden-admins", role=Role.PLATFORM_ADMIN)
    fleet = make_fleet(unique, name=FLEET)
    services.apply(SYSTEM, fleet)


def test_an_admin_changes_the_buffer_sees_the_diff_applies_and_the_revision_becomes_live(live_server, page):
    page.goto(f"{live_server.url}/fleets/{FLEET}/")
    sign_in(page, DAVE)

    expect(page.get_by_role("heading", name=FLEET)).to_be_visible()
    expect(page.locator(".live-revision")).to_contain_text("#1")
    page.get_by_label("Buffer (MiB)").fill("96")
    page.get_by_label("Reason").fill("bursty namespaces")
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_role("heading", name="Revision 2")).to_be_visible()
    diff = page.locator("pre.diff")
    expect(diff.locator(".removed", has_text="limit_mib: 64")).to_have_count(1)
    expect(diff.locator(".added", has_text="limit_mib: 96")).to_have_count(1)
    page.get_by_role("button", name="Apply revision 2").click()

    expect(page.get_by_role("heading", name=FLEET)).to_be_visible()
    expect(page.locator(".message.success")).to_contain_text("Revision 2 applied")
    expect(page.locator(".live-revision")).to_contain_text("#2")
