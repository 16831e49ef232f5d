"""The one-time password page in a real browser (Debian's Chromium driven by Playwright against the live
server): alice signs in through the real OpenLDAP directory and her password, made on the real broker, is shown
in a card that holds its client configuration blocks instead of spilling them across the page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import GroupMapping, Team
from portal.core.audit import SYSTEM
from tests.browser.support import ALICE, sign_in
from tests.factories import default_policies, person
from tests.helpers import require_env
from topics.access.services import grant_directly
from topics.catalogue.services import register_namespace
from topics.models import RetentionClass
from topics.provisioning.principals import principal_for

pytestmark = [pytest.mark.ldap, pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(celery_eager, unique):
    """alice (team payments) holds a grant an admin gave her directly; its reconcile ran in-process on the real
    broker and left her new password waiting. Written before the browser starts (see tests/browser/conftest.py)."""
    require_env("LDAP_URI", "KAFKA_BOOTSTRAP")
    default_policies()  # a transactional test starts without the migrations' policy rows
    payments = Team.objects.create(slug="payments", name="Payments")
    GroupMapping.objects.create(ldap_group="team-payments", team=payments)
    RetentionClass.objects.get_or_create(name="standard", defaults={"retention_ms": 7 * 86_400_000})
    namespace = register_namespace(SYSTEM, name=f"card-{unique}", owner_team=payments)
    alice = person("alice", "team-payments")
    grant_directly(person("dave", superuser=True), principal=principal_for(alice), topic=namespace.topics.get(),
                   days=7, reason="incident 4711")


def test_the_password_card_holds_its_client_configuration(live_server, page):
    page.goto(f"{live_server.url}/access/credentials/")
    sign_in(page, ALICE)
    page.get_by_role("button", name="Show password once").click()

    expect(page.get_by_role("heading", name="Password of u.alice.a")).to_be_visible()
    for summary in page.locator(".card details > summary").all():
        summary.click()
    expect(page.locator(".card details[open]")).to_have_count(4)

    card = page.locator(".card")
    widths = card.evaluate("""card => ({card: card.getBoundingClientRect().width, scroll: card.scrollWidth,
        client: card.clientWidth, page: document.documentElement.scrollWidth, viewport: window.innerWidth,
        widest: Math.max(...[...card.querySelectorAll('pre')].map(pre => pre.getBoundingClientRect().right))
                - card.getBoundingClientRect().right})""")
    assert widths["scroll"] <= widths["client"], widths  # nothing spills out of the card
    assert widths["widest"] <= 0, widths  # every configuration block ends inside it
    assert widths["page"] <= widths["viewport"], widths  # and the page does not scroll sideways
