"""The history in a real browser (Debian's Chromium driven by Playwright against the live server): carol, the
auditor, signs in through the real OpenLDAP directory, asks who could read payments today, sees alice's grant
with its reason and the chart of grants per day, and downloads the answer as PDF."""
from __future__ import annotations

import base64
import re
import zlib

import pytest
from django.utils import timezone
from django_auth_ldap.backend import LDAPBackend
from playwright.sync_api import expect

from accounts.models import GroupMapping, Role, Team
from portal.core.audit import SYSTEM
from tests.browser.support import ALICE, CAROL, DAVE, sign_in
from tests.factories import default_policies
from tests.helpers import require_env
from topics.access import services as access
from topics.catalogue.services import register_namespace
from topics.models import RetentionClass
from topics.provisioning.principals import principal_for

pytestmark = [pytest.mark.ldap, pytest.mark.django_db(transaction=True)]


def pdf_text(document: bytes) -> str:
    """The words drawn in a reportlab PDF (its content streams are ASCII85 then Flate encoded), one space
    between the pieces of text it draws (a table cell wraps into several)."""
    streams = re.findall(rb"/Filter \[ /ASCII85Decode /FlateDecode \].*?stream\r?\n(.*?)endstream", document, re.S)
    drawn = "".join(zlib.decompress(base64.a85decode(stream.strip(), adobe=True)).decode("latin-1")
                    for stream in streams)
    return " ".join(re.findall(r"\((.*?)\) Tj", drawn))


@pytest.fixture
def catalogue(celery_eager):
    """dave (platform admin) granted alice payments for three days, and the reconcile (in-process, as the worker
    would run it) provisioned it on the real broker; carol is an auditor. Written before the browser starts (see
    tests/browser/conftest.py)."""
    require_env("LDAP_URI", "KAFKA_BOOTSTRAP")
    default_policies()
    payments = Team.objects.create(slug="payments", name="Payments")
    GroupMapping.objects.create(ldap_group="team-payments", team=payments)
    GroupMapping.objects.create(ldap_group="logwarden-auditors", role=Role.AUDITOR)
    GroupMapping.objects.create(ldap_group="logwarden-admins", role=Role.PLATFORM_ADMIN)
    RetentionClass.objects.get_or_create(name="standard", defaults={"retention_ms": 7 * 86_400_000})
    namespace = register_namespace(SYSTEM, name="payments", owner_team=payments)
    backend = LDAPBackend()
    alice, dave = backend.populate_user(ALICE.uid), backend.populate_user(DAVE.uid)
    backend.populate_user(CAROL.uid)
    access.grant_directly(dave, principal=principal_for(alice), topic=namespace.topics.get(), days=3,
                          reason="chasing a refund bug")


def test_an_auditor_asks_who_could_read_a_namespace_on_a_date_sees_the_chart_and_downloads_the_pdf(
        live_server, page, tmp_path):
    page.goto(f"{live_server.url}/history/")
    sign_in(page, CAROL)
    expect(page.get_by_role("heading", name="History")).to_be_visible()

    form = page.locator("#who-could-read")
    form.get_by_label("Namespace").select_option("payments")
    form.get_by_label("On date or at instant").fill(f"{timezone.now().date():%Y-%m-%d}")
    form.get_by_role("button", name="Ask").click()

    expect(page.get_by_role("heading", name="Who could read payments")).to_be_visible()
    expect(page.get_by_role("cell", name="u.alice", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="yes u.alice.a")).to_be_visible()  # the broker held the ACL
    expect(page.locator("table.grid")).to_contain_text("chasing a refund bug")
    expect(page.locator("table.grid")).to_contain_text("granted by dave")
    chart = page.locator("#grants-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(30)

    with page.expect_download() as download:
        page.locator("#download-pdf").click()
    saved = tmp_path / "answer.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "who-could-read-payments.pdf"
    assert saved.read_bytes().startswith(b"%PDF")
    text = pdf_text(saved.read_bytes())
    assert "u.alice" in text and "chasing a refund bug" in text and "Who could read payments" in text
