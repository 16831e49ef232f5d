"""The logs over HTTP through Django's test client: the API (a person's session, a service account's token),
the NDJSON download, the page; refusals with the status the policy gives and the field named; nothing read
without a grant."""
from __future__ import annotations

import json

import pytest

from tests.api_clients import client_as
from tests.helpers import events, html
from tests.logs_helpers import MALFORMED
from topics.access import services as access
from topics.provisioning.principals import principal_for

pytestmark = pytest.mark.django_db


def url(logs, tail: str = "") -> str:
    return f"/api/namespaces/{logs.namespace.name}/logs/{tail}"


@pytest.mark.kafka
def test_a_person_pages_through_the_api(world, logs):
    alice = client_as(world, "engineer")
    first = alice.get(url(logs), {"page_size": 2, "container": "api"})
    assert first.status_code == 200, first.content
    body = first.json()
    assert [r["log"] for r in body["records"]] == ["line 28\n", "line 27\n"] and body["older"]
    assert body["records"][0]["kubernetes"]["namespace_name"] == logs.namespace.name
    assert body["readable_since"] is None and body["budget_spent"] is False
    second = alice.get(url(logs), {"page_size": 2, "container": "api", "cursor": body["older"]}).json()
    assert [r["log"] for r in second["records"]] == ["line 25\n", "line 24\n"]
    back = alice.get(url(logs), {"page_size": 2, "container": "api", "cursor": second["newer"]}).json()
    assert back["records"] == body["records"]
    assert [e.data["filter"] for e in events("logs.read")] == [{"container": "api"}] * 3


@pytest.mark.kafka
def test_a_service_account_reads_with_its_token_on_its_own_grant(world, logs, django_capture_on_commit_callbacks):
    program = client_as(world, "service_account")
    assert program.get(url(logs)).status_code == 403
    access.grant_directly(world.admin, principal=principal_for(world.service_account.user), topic=logs.topic,
                          days=1, reason="export")
    answered = program.get(url(logs), {"page_size": 1})
    assert answered.status_code == 200 and answered.json()["records"][0]["raw"] == MALFORMED.decode()
    assert events("logs.read")[0].actor == world.service_account.user


@pytest.mark.kafka
def test_the_download_streams_ndjson_bounded_and_is_one_audit_event(world, logs):
    response = client_as(world, "engineer").get(url(logs, "download/"), {"limit": 12, "stream": "stdout"})
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    assert response.streaming and "attachment" in response["Content-Disposition"]
    rows = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert len(rows) == 12 and all(row["stream"] == "stdout" for row in rows)
    (event,) = events("logs.read")
    assert event.data["mode"] == "download" and event.data["records"] == 12
    assert event.data["filter"] == {"stream": "stdout"}


@pytest.mark.kafka
def test_the_page_shows_records_filters_and_paging(world, logs, client):
    client.force_login(world.engineer)
    page = client.get(f"/namespaces/{logs.namespace.name}/logs/", {"pod": "-b", "page_size": 4})
    assert page.status_code == 200
    text = html(page)
    assert "line 29" in text and "line 23" in text and "line 28" not in text and "Older" in text
    assert 'id="follow"' in text and "logs-follow.js" in text and "<script>" not in text
    assert f"/api/namespaces/{logs.namespace.name}/logs/download/?pod=-b" in text
    malformed = client.get(f"/namespaces/{logs.namespace.name}/logs/", {"text": "not json"})
    assert 'class="malformed"' in html(malformed) and MALFORMED.decode() in html(malformed)
    detail = html(client.get(f"/namespaces/{logs.namespace.name}/"))
    assert f'href="/namespaces/{logs.namespace.name}/logs/"' in detail  # the namespace page links to them
    client.force_login(world.owner)
    assert "Read the logs" not in html(client.get(f"/namespaces/{logs.namespace.name}/"))
    assert client.get(f"/namespaces/{logs.namespace.name}/logs/").status_code == 403


def test_refusals_name_the_field_and_read_nothing(world, pay):
    alice = client_as(world, "engineer")
    access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=pay.topics.get(), days=1,
                          reason="x")
    base = f"/api/namespaces/{pay.name}/logs/"
    for query, field in [({"regex": "(unclosed"}, "regex"), ({"labels": "app"}, "labels"),
                         ({"cursor": "!!"}, "cursor"), ({"page_size": 0}, "page_size"),
                         ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
                         ({"pod": "x" * 501}, "pod"), ({"stream": "stdin"}, "stream")]:
        answered = alice.get(base, query)
        assert answered.status_code == 400 and field in answered.json(), (query, answered.content)
    page = client_as(world, "engineer").get(f"/namespaces/{pay.name}/logs/", {"regex": "(unclosed"})
    assert page.status_code == 400 and "not a valid regular expression" in html(page)
    assert alice.get("/api/namespaces/no-such-namespace/logs/").status_code == 404
    assert client_as(world, "anonymous").get(base).status_code in (401, 403)
    for role in ("owner", "admin", "auditor", "outsider", "service_account"):
        assert client_as(world, role).get(base).status_code == 403, role
        assert client_as(world, role).get(f"{base}download/").status_code == 403, role
        assert client_as(world, role).get(f"{base}follow/").status_code == 403, role
    assert events("logs.read") == []


def test_before_the_reader_is_provisioned_the_answer_is_a_503(world, pay):
    access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=pay.topics.get(), days=1,
                          reason="x")
    answered = client_as(world, "engineer").get(f"/api/namespaces/{pay.name}/logs/")
    assert answered.status_code == 503 and "being provisioned" in answered.json()["detail"]
    assert events("logs.read") == []
