"""API clients acting as each role of the test world, and authorization matrices for pytest.mark.parametrize."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.helpers import PEOPLE

ROLES = (*PEOPLE, "service_account", "anonymous")


def client_as(world, role: str) -> APIClient:
    """People sign in with a session; the service account sends its API token; anonymous sends nothing."""
    client = APIClient()
    if role == "service_account":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.token}")
    elif role != "anonymous":
        client.force_login(world.user_for(role))
    return client


def matrix(table: dict[str, tuple[int, ...]]) -> list:
    """{action: expected status per role, in ROLES order} → (action, role, status) parameters."""
    params = []
    for action, statuses in table.items():
        assert len(statuses) == len(ROLES), action
        params += [pytest.param(action, role, status, id=f"{action}-{role}") for role, status in zip(ROLES, statuses)]
    return params


def call(client, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(url, body, format="json")


def assert_allowed_as_expected(world, role: str, request: tuple, expected: int) -> None:
    """One cell of an authorization matrix: the status, and an audit event exactly when something changed."""
    from portal.models import AuditEvent

    method = request[0]
    before = AuditEvent.objects.count()

    response = call(client_as(world, role), *request)

    assert response.status_code == expected, response.content
    assert (AuditEvent.objects.count() != before) == (method != "get" and expected < 300)
