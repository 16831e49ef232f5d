"""A Kubernetes label only suggests a namespace's owner team: whoever can label a namespace must not pick who
approves access to its logs. Until a platform admin confirms the suggestion (web page, API), the namespace has no
owner and requests for it are refused with a message saying so."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portal.models import AuditEvent
from shipper.discovery.services import OWNER_KEY, ObservedNamespace, discover
from tests.api_clients import client_as
from tests.factories import ask
from tests.helpers import html
from topics import policy
from topics.models import Namespace

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(world):
    """A namespace discovered with the label naming payments as its owner."""
    discover([ObservedNamespace("labelled", labels={OWNER_KEY: "payments"})])
    return Namespace.objects.get(name="labelled")


def test_a_labelled_owner_is_a_suggestion_that_decides_nothing(world, labelled):
    assert (labelled.owner_team, labelled.suggested_owner_team) == (None, world.payments)
    with pytest.raises(ValidationError) as refused:
        ask(world, labelled)
    assert refused.value.message_dict["namespaces"] == [
        "labelled has no confirmed owner team yet (its Kubernetes label suggests Payments), so nobody may approve "
        "requests for it: a platform admin must confirm its owner first."]
    assert client_as(world, "engineer").get("/api/namespaces/labelled/").json()["suggested_owner_team"] == "payments"


def test_an_admin_confirms_the_suggested_owner_through_the_api(world, labelled):
    assert client_as(world, "owner").post("/api/namespaces/labelled/confirm-owner/").status_code == 403

    confirmed = client_as(world, "admin").post("/api/namespaces/labelled/confirm-owner/")

    assert confirmed.status_code == 200, confirmed.content
    assert (confirmed.json()["owner_team"], confirmed.json()["suggested_owner_team"]) == ("payments", None)
    event = AuditEvent.objects.get(action="namespace.confirm_owner")
    assert (event.actor_label, event.data) == ("dave", {"owner_team": "payments"})
    item = ask(world, Namespace.objects.get(name="labelled")).items.get()
    assert policy.may_decide(world.owner, item)

    again = client_as(world, "admin").post("/api/namespaces/labelled/confirm-owner/")
    assert again.status_code == 400 and "already owned by Payments" in again.json()["owner_team"][0]


def test_an_admin_confirms_the_suggested_owner_on_the_namespace_page(client, world, labelled):
    client.force_login(world.engineer)
    page = html(client.get("/namespaces/labelled/"))
    assert "Suggested by its Kubernetes label" in page and "awaiting a platform admin" in page
    assert "confirm-owner" not in page
    assert client.post("/namespaces/labelled/confirm-owner/").status_code == 403

    client.force_login(world.admin)
    assert 'action="/namespaces/labelled/confirm-owner/"' in html(client.get("/namespaces/labelled/"))
    response = client.post("/namespaces/labelled/confirm-owner/", follow=True)

    assert "Payments now owns labelled" in html(response)
    assert Namespace.objects.get(name="labelled").owner_team == world.payments
    unlabelled = Namespace.objects.create(name="bare", retention_class=labelled.retention_class)
    message = html(client.post(f"/namespaces/{unlabelled.name}/confirm-owner/", follow=True))
    assert "No owner team is suggested for bare" in message


def test_an_owner_an_admin_sets_otherwise_settles_the_suggestion(world, labelled):
    response = client_as(world, "admin").patch("/api/namespaces/labelled/", {"owner_team": "checkout"},
                                               format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["owner_team"], response.json()["suggested_owner_team"]) == ("checkout", None)
    assert AuditEvent.objects.get(action="namespace.update").data["changes"]["suggested_owner_team"] == {
        "from": "payments", "to": None}
