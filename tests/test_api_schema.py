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


METHODS = ("get", "post", "put", "patch", "delete")


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", path, item[method]


def _answers_it_can_give(path: str, operation: dict) -> set[str]:
    """What every operation of this API may answer besides success: 403 when signing in is required (someone
    signed in may lack the role), 404 with an object in its path, 400 with a body or query parameters to
    refuse."""
    answers = set()
    if {} not in operation.get("security", []):
        answers.add("403")
    if "{" in path:
        answers.add("404")
    if "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", [])):
        answers.add("400")
    return answers


@pytest.mark.django_db
def test_every_operation_documents_the_refusals_it_can_give(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    undocumented = {name: sorted(_answers_it_can_give(path, operation) - set(operation["responses"]))
                    for name, path, operation in _operations(schema)}

    assert len(undocumented) > 60
    assert {name: missing for name, missing in undocumented.items() if missing} == {}


def _one_ofs(node):
    if isinstance(node, dict):
        if "oneOf" in node:
            yield node["oneOf"]
        for value in node.values():
            yield from _one_ofs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _one_ofs(value)


@pytest.mark.django_db
def test_a_blank_allowed_field_with_a_pattern_accepts_the_blank(client):
    """`oneOf` would refuse "" wherever the pattern matches it too (read_allowlist: zero principal lines)."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert [alternatives for alternatives in _one_ofs(schema) if {"type": "string", "maxLength": 0} in alternatives] \
        == []
    assert {"type": "string", "maxLength": 0} in \
        schema["components"]["schemas"]["KafkaCluster"]["properties"]["read_allowlist"]["anyOf"]
