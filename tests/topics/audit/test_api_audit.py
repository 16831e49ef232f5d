"""The audit trail's API: who reads it, its filters, the hash chain each event shows, and that it is
append-only. Against the real PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import AuditEvent
from tests.api_clients import assert_allowed_as_expected, client_as, matrix

pytestmark = pytest.mark.django_db

# --- authorization matrix ----------------------------------------------------------------------------------
# statuses in ROLES order: engineer, owner, auditor, admin, outsider, service_account, anonymous

REQUESTS = {
    "audit-list": lambda: ("get", "/api/audit-events/", None),
    "audit-retrieve": lambda: ("get", f"/api/audit-events/{AuditEvent.objects.first().pk}/", None),
    "audit-delete": lambda: ("delete", f"/api/audit-events/{AuditEvent.objects.first().pk}/", None),
}

MATRIX = {
    "audit-list": (403, 403, 200, 200, 403, 403, 401),
    "audit-retrieve": (403, 403, 200, 200, 403, 403, 401),
    "audit-delete": (403, 403, 405, 405, 403, 403, 401),  # append-only
}


@pytest.mark.parametrize(("action", "role", "expected"), matrix(MATRIX))
def test_authorization_matrix(world, action, role, expected):
    assert_allowed_as_expected(world, role, REQUESTS[action](), expected)


# --- audit events --------------------------------------------------------------------------------------------

def test_audit_events_are_filtered(world):
    admin = client_as(world, "admin")
    admin.patch("/api/namespaces/payments/", {"sensitivity": "high"}, format="json")
    admin.post("/api/namespaces/checkout/retire/", {"reason": "merged"}, format="json")
    auditor = client_as(world, "auditor")

    def actions(**query) -> list[str]:
        response = auditor.get("/api/audit-events/", query)
        assert response.status_code == 200, response.content
        return [e["action"] for e in response.json()["results"]]

    assert actions(actor_label="dave") == ["namespace.retire", "namespace.update"]
    assert actions(action="namespace.retire") == ["namespace.retire"]
    assert actions(action_prefix="namespace.", target_id=str(world.ns_payments.pk)) == ["namespace.update"]
    assert "service_account.create" in actions(target_type="accounts.serviceaccount")
    now = timezone.now()
    assert actions(occurred_at_after=(now + timedelta(minutes=1)).isoformat()) == []
    assert len(actions(occurred_at_after=(now - timedelta(minutes=5)).isoformat(),
                       occurred_at_before=(now + timedelta(minutes=1)).isoformat())) == AuditEvent.objects.count()
    bad = auditor.get("/api/audit-events/", {"occurred_at_after": "last tuesday"})
    assert bad.status_code == 400 and "occurred_at" in bad.json()


def test_audit_event_shows_the_hash_chain(world):
    event = AuditEvent.objects.first()

    body = client_as(world, "auditor").get(f"/api/audit-events/{event.pk}/").json()

    assert body["sequence"] == event.pk and body["hash"] == event.hash
    assert body["previous_hash"] == event.previous_hash
