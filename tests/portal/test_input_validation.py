"""NUL characters (which PostgreSQL refuses with a DataError, a 500) are refused at the door: in a path, a
query, a JSON body or a form field, of the API and of the pages, with a short 400 and nothing written.
Against the real PostgreSQL."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client

from accounts.models import Team
from portal.models import AuditEvent
from tests.api_clients import client_as
from topics.models import KafkaCluster, Namespace

pytestmark = pytest.mark.django_db


def refused_as_json(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json" and "NUL character" in response.json()["detail"]


def refused_as_text(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/plain") and b"NUL character" in response.content
    assert len(response.content) < 200


@pytest.mark.parametrize("path", ["/api/namespaces/%00/", "/api/namespaces/pay%00ments/", "/api/teams/%00/",
                                  "/api/namespaces/?name=%00", "/api/namespaces/?%00=x"])
def test_nul_in_an_api_path_or_query_is_a_400_for_the_token(world, path):
    response = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}").get(path)

    refused_as_json(response)


@pytest.mark.parametrize("path", ["/namespaces/%00/", "/access/principals/%00/", "/teams/%00/",
                                  "/namespaces/?q=%00"])
def test_nul_in_a_page_path_is_a_short_plain_400(client, world, path):
    client.force_login(world.engineer)

    refused_as_text(client.get(path))


@pytest.mark.parametrize(("url", "body"), [
    ("/api/namespaces/", {"name": "sea\u0000rch"}),
    ("/api/namespaces/", {"name": "search", "labels": {"app\u0000": "search"}}),
    ("/api/namespaces/", {"name": "search", "labels": {"app": "sea\u0000rch"}}),
    ("/api/namespaces/", {"name": "search", "description": "\u0000"}),
    ("/api/teams/", {"slug": "bil\u0000ling", "name": "Billing"}),
    ("/api/clusters/", {"name": "eu\u0000", "bootstrap": "kafka:9092"}),
])
def test_nul_escape_in_a_json_body_is_a_400_and_nothing_is_written(world, url, body):
    before = (Namespace.objects.count(), Team.objects.count(), KafkaCluster.objects.count(),
              AuditEvent.objects.count())

    response = client_as(world, "admin").post(url, body, format="json")

    refused_as_json(response)
    assert (Namespace.objects.count(), Team.objects.count(), KafkaCluster.objects.count(),
            AuditEvent.objects.count()) == before


def test_raw_nul_byte_in_a_json_body_is_a_400(world):
    response = client_as(world, "admin").generic("PATCH", "/api/namespaces/payments/",
                                                 b'{"description": "a\x00b"}', content_type="application/json")

    refused_as_json(response)
    world.ns_payments.refresh_from_db()
    assert world.ns_payments.description == ""


def test_an_escaped_backslash_before_u0000_is_text_and_accepted(world):
    response = client_as(world, "admin").post("/api/namespaces/", {"name": "search",
                                                                   "labels": {"note": "\\u0000"}}, format="json")

    assert response.status_code == 201, response.content
    assert Namespace.objects.get(name="search").labels == {"note": "\\u0000"}


@pytest.mark.parametrize("field", ["description", "name"])
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_nul_in_a_form_field_is_a_400_and_nothing_is_written(client, world, field, encoding):
    client.force_login(world.admin)
    data = {"name": "ledger", "owner_team": world.payments.pk, "sensitivity": "high",
            "retention_class": world.ns_payments.retention_class_id, "description": "The ledger"}
    data[field] += "\x00"

    def post(url):
        if encoding == "multipart":
            return client.post(url, data)
        return client.post(url, urlencode(data), content_type="application/x-www-form-urlencoded")

    refused_as_text(post("/namespaces/"))
    refused_as_text(post("/namespaces/payments/"))
    assert not Namespace.objects.filter(name__startswith="ledger").exists()
    assert not AuditEvent.objects.filter(action__startswith="namespace.").exists()


def test_nul_free_requests_pass(client, world):
    client.force_login(world.engineer)

    assert client.get("/namespaces/payments/").status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Bearer {world.token}").get("/api/namespaces/payments/").status_code == 200
