"""The API's contract for bad input, against the real PostgreSQL: parameters it cannot use are a 400 naming
them, every error under /api/ is JSON, a refused value is echoed as a short excerpt at most, oversized bodies
are a 413, and the Bearer scheme is case-insensitive."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.test import Client

from portal.models import AuditEvent
from topics.models import AccessRequest
from topics.provisioning.principals import principal_for
from tests.api_clients import client_as
from tests.helpers import html

pytestmark = pytest.mark.django_db

FAR_OFFSET = "2020-01-01T00:00:00%2B16:00"


def refused(response, parameter: str) -> None:
    assert response.status_code == 400, response.content[:300]
    assert parameter in response.json(), response.json()


@pytest.mark.parametrize(("url", "parameter"), [
    ("/api/access-requests/", "created_at_after"),
    ("/api/access-requests/", "created_at_before"),
    ("/api/grants/", "valid_until_after"),
    ("/api/reconcile-runs/", "started_at_after"),
    ("/api/audit-events/", "occurred_at_before"),
])
def test_a_utc_offset_postgresql_cannot_store_is_a_400_naming_the_parameter(world, url, parameter):
    response = client_as(world, "admin").get(f"{url}?{parameter}={FAR_OFFSET}")

    assert response.status_code == 400, response.content[:300]
    assert parameter in str(response.json())


def test_the_largest_offset_postgresql_stores_is_accepted(world):
    response = client_as(world, "admin").get("/api/access-requests/?created_at_after=2020-01-01T00:00:00%2B15:59")

    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/access/requests/", "/access/grants/"])
def test_a_web_list_shows_the_offset_error_on_its_filter_form(client, world, url):
    client.force_login(world.admin)
    parameter = "created_at_after" if "requests" in url else "valid_until_after"

    response = client.get(f"{url}?{parameter}={FAR_OFFSET}")

    assert response.status_code == 200
    assert "out of range" in html(response)


@pytest.mark.parametrize(("query", "parameter"), [
    ("is_active=-2213", "is_active"), ("is_active=maybe", "is_active"), ("state=", "state"),
    ("page=", "page"), ("page=first", "page"), ("page_size=0", "page_size"), ("page_size=100000", "page_size"),
    ("page_size=ten", "page_size"),
])
def test_a_filter_or_page_value_that_cannot_be_used_is_a_400_naming_it(world, query, parameter):
    url = "/api/access-requests/" if parameter == "state" else "/api/service-accounts/"

    refused(client_as(world, "admin").get(f"{url}?{query}"), parameter)


def test_booleans_and_page_size_that_can_be_used_work(world):
    admin = client_as(world, "admin")

    assert admin.get("/api/service-accounts/?is_active=false").json()["count"] == 0
    assert admin.get("/api/service-accounts/?is_active=true").json()["count"] == 1
    response = admin.get("/api/audit-events/?page_size=1")
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_an_unknown_choice_in_a_filter_is_echoed_as_a_short_excerpt_only(world):
    response = client_as(world, "admin").get(f"/api/namespaces/?sensitivity={'x' * 5000}")

    assert response.status_code == 400
    assert len(response.content) < 600


def test_an_unknown_name_in_a_body_is_echoed_as_a_short_excerpt_only(world):
    body = {"principal": "u.engineer", "namespaces": ["y" * 1_000_000], "reason": "r", "duration_days": 1}

    response = client_as(world, "engineer").post("/api/access-requests/", body, format="json")

    assert response.status_code == 400
    assert len(response.content) < 1000


@pytest.mark.parametrize(("method", "url"), [("get", "/api/no-such-thing/"), ("get", "/api/namespaces/nope/"),
                                             ("delete", "/api/audit-events/")])
def test_errors_under_the_api_are_json(world, method, url):
    response = getattr(client_as(world, "admin"), method)(url)

    assert response.status_code in (404, 405)
    assert response["Content-Type"] == "application/json"


def test_an_oversized_api_body_is_a_json_413_and_nothing_is_written(world):
    before = AuditEvent.objects.count()

    response = client_as(world, "admin").post("/api/teams/", {"slug": "big", "name": "x" * 3_000_000},
                                              format="json")

    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert AuditEvent.objects.count() == before


def test_an_oversized_form_is_a_plain_413_page(client, world):
    client.force_login(world.admin)

    response = client.post("/access/requests/new/", {"reason": "x" * 3_000_000})

    assert response.status_code == 413 and response["Content-Type"].startswith("text/plain")
    assert len(response.content) < 200


def test_a_malformed_json_body_is_a_json_400(world):
    response = client_as(world, "admin").post("/api/teams/", "{not json", content_type="application/json")

    assert response.status_code == 400 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize("url", ["/api/teams/", "/access/requests/new/"])
def test_a_multipart_body_without_a_boundary_is_a_400_not_a_500(world, url):
    client = client_as(world, "admin")

    response = client.post(url, b"name=x", content_type="multipart/form-data")

    assert response.status_code == 400 and b"boundary" in response.content


def test_an_unknown_page_is_a_plain_404_page_not_a_debug_page(client, world):
    client.force_login(world.admin)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Not found" in html(response) and "URLconf" not in html(response)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_scheme_is_case_insensitive(world, scheme):
    response = Client(HTTP_AUTHORIZATION=f"{scheme} {world.token}").get("/api/namespaces/")

    assert response.status_code == 200


def test_a_reason_longer_than_the_limit_is_refused_and_nothing_is_written(world):
    body = {"principal": "u.alice", "namespaces": ["payments"], "reason": "r" * 1_000_000,
            "duration_days": 1}

    response = client_as(world, "engineer").post("/api/access-requests/", body, format="json")

    assert response.status_code == 400 and "reason" in response.json(), response.content[:300]
    assert "2000" in response.json()["reason"][0] and len(response.content) < 300
    assert not AccessRequest.objects.exists() and not AuditEvent.objects.filter(action="request.create").exists()


def test_a_reason_at_the_limit_is_accepted(world):
    body = {"principal": "u.alice", "namespaces": ["payments"], "reason": "r" * 2000, "duration_days": 1}

    response = client_as(world, "engineer").post("/api/access-requests/", body, format="json")

    assert response.status_code == 201, response.content[:300]


def test_a_description_longer_than_the_limit_is_refused(world):
    response = client_as(world, "admin").post("/api/teams/", {"slug": "billing", "name": "Billing",
                                                              "description": "d" * 2001}, format="json")

    assert response.status_code == 400 and "description" in response.json()


def test_a_web_request_reason_longer_than_the_limit_is_a_form_error(client, world):
    client.force_login(world.engineer)

    response = client.post("/access/requests/new/", {"principal": principal_for(world.engineer).pk,
                                                     "namespaces": ["payments"], "reason": "r" * 2001,
                                                     "duration_days": 1})

    assert response.status_code == 200 and "At most 2000 characters" in html(response)
    assert not AccessRequest.objects.exists()


def _queries_of_a_request_for(client, namespaces: list[str]) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/access-requests/", {"principal": "u.alice", "namespaces": namespaces,
                                                          "reason": "r", "duration_days": 1}, format="json")
    assert response.status_code == 400
    return len(queries), response.json()


def test_a_list_longer_than_the_limit_is_refused_before_any_lookup(world):
    client = client_as(world, "engineer")
    _queries_of_a_request_for(client, ["payments", "ns-0"])  # the principal is made on first use
    few, _ = _queries_of_a_request_for(client, ["payments", "ns-0"])

    many, answer = _queries_of_a_request_for(client, [f"ns-{i}" for i in range(10_000)])

    assert "100" in answer["namespaces"][0]
    assert many <= few  # refused by its length, before any name is looked up


def test_the_namespaces_of_a_request_are_resolved_in_one_query(world):
    client = client_as(world, "engineer")
    _queries_of_a_request_for(client, ["payments", "ns-0"])  # the principal is made on first use
    few, _ = _queries_of_a_request_for(client, ["payments", "ns-0"])

    many, answer = _queries_of_a_request_for(client, ["payments", *[f"ns-{i}" for i in range(99)]])

    assert many == few  # one lookup for all the names, however many
    assert "ns-0" in answer["namespaces"][0] and "94 more" in answer["namespaces"][0]


@pytest.mark.parametrize("status", [400, 404, 405, 413, 500])
def test_an_html_error_under_the_api_becomes_json_and_a_page_error_stays(status):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from portal.core.middleware import ApiErrorsAsJson

    as_json = ApiErrorsAsJson(lambda request: HttpResponse("<html>debug page</html>", status=status))

    api = as_json(RequestFactory().get("/api/anything/"))
    page = as_json(RequestFactory().get("/namespaces/"))

    assert api.status_code == status and api["Content-Type"] == "application/json"
    assert b"debug page" not in api.content
    assert page.status_code == status and b"debug page" in page.content
