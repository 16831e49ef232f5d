"""One key per purpose: rotating the session key (SECRET_KEY) leaves the audit chain and the waiting password
hand-offs readable, and each of those follows its own key. Every page carries the security headers, and a
session ends. Against the real PostgreSQL."""
from __future__ import annotations

import pytest
from django.test import Client, override_settings

from portal.core import audit
from tests.factories import activate
from topics.catalogue.clusters import default_cluster
from topics.models import KafkaCredential
from topics.provisioning import handoff
from topics.provisioning.principals import ensure_credential, principal_for

pytestmark = pytest.mark.django_db

ANOTHER_KEY = "another-key-for-one-purpose-" + "z" * 40


def test_rotating_the_session_key_leaves_the_audit_chain_verifying():
    audit.record(audit.SYSTEM, "before.rotation")

    with override_settings(SECRET_KEY=ANOTHER_KEY):
        assert audit.verify_chain().intact
    with override_settings(LOGWARDEN_AUDIT_KEY=ANOTHER_KEY):
        assert not audit.verify_chain().intact


def _waiting_password(world) -> KafkaCredential:
    credential = ensure_credential(principal_for(world.engineer), default_cluster())
    return activate(credential, password="pw-" + "p" * 30)


def test_rotating_the_session_key_leaves_a_waiting_password_readable(world):
    credential = _waiting_password(world)

    with override_settings(SECRET_KEY=ANOTHER_KEY):
        assert handoff.claim(credential) == "pw-" + "p" * 30


def test_a_waiting_password_needs_the_hand_off_key_it_was_left_with(world):
    credential = _waiting_password(world)

    with override_settings(LOGWARDEN_HANDOFF_KEY=ANOTHER_KEY), \
            pytest.raises(handoff.HandoffUnavailable, match="LOGWARDEN_HANDOFF_KEY changed"):
        handoff.claim(credential)


@pytest.mark.parametrize("path", ["/accounts/login/", "/health/", "/api/namespaces/"])
def test_every_response_forbids_framing_and_inline_scripts(path):
    response = Client().get(path)

    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_request_form_has_no_inline_script(client, world):
    client.force_login(world.engineer)

    page = client.get("/access/requests/new/").content.decode()

    assert "<script>" not in page and "searchable-select.js" in page


def test_a_session_ends_after_eight_hours_and_with_the_browser(client, world):
    client.force_login(world.engineer)

    assert client.session.get_expiry_age() == 8 * 3600
    assert client.session.get_expire_at_browser_close()
