"""The OpenAPI schema of the API: served, valid, and generated without a warning."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.api_clients import client_as


@pytest.mark.django_db
def test_schema_is_served_and_describes_every_resource(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/teams/", "/api/group-mappings/", "/api/service-accounts/",
                 "/api/service-accounts/{service_account_name}/tokens/{prefix}/revoke/", "/api/clusters/",
                 "/api/retention-classes/", "/api/namespaces/{name}/retire/", "/api/topics/", "/api/audit-events/"):
        assert path in paths
    assert "delete" not in paths["/api/namespaces/{name}/"]
    assert response.json()["components"]["securitySchemes"]["serviceAccountToken"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_docs_page_is_served(client):
    assert client.get("/api/docs/").status_code == 200


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi:")


@pytest.mark.django_db
def test_api_root_lists_the_resources(world):
    body = client_as(world, "engineer").get("/api/").json()

    assert {"teams", "service-accounts", "namespaces", "topics", "audit-events"} <= set(body)
