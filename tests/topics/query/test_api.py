"""The query API on the real PostgreSQL: a page of rows, the 403/404/400 answers, the streamed downloads and
the `logs` view's columns, for people and for a service account with its token."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from tests.api_clients import client_as
from tests.helpers import events
from tests.topics.query.archive_files import live_grant, records, write
from topics.query import services

DAY = date(2026, 11, 24)
URL = "/api/query/"


@pytest.fixture
def archive(world, store):
    live_grant(world.engineer, world.ns_payments)
    live_grant(world.service_account.user, world.ns_payments)
    write(store, "payments", DAY, records("payments", DAY, count=5))
    write(store, "checkout", DAY, records("checkout", DAY, count=2))


@pytest.mark.parametrize("role", ["engineer", "service_account"])
def test_a_grant_holder_gets_a_page_of_rows(world, archive, role):
    response = client_as(world, role).post(URL, {
        "sql": "SELECT \"offset\", timestamp, labels, date FROM logs ORDER BY \"offset\"", "namespaces": ["payments"],
        "page_size": 2, "page": 2}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [column["name"] for column in body["columns"]] == ["offset", "timestamp", "labels", "date"]
    assert body["rows"] == [[2, "2026-11-24T10:00:02+00:00", {"app": "api", "tier": "backend"}, "2026-11-24"],
                            [3, "2026-11-24T10:00:03+00:00", {"app": "api", "tier": "backend"}, "2026-11-24"]]
    assert body["has_next"] and body["files"] == 1 and body["namespaces"] == ["payments"]


def test_a_namespace_without_a_grant_is_403_and_reads_nothing(world, archive):
    response = client_as(world, "outsider").post(URL, {"sql": "SELECT * FROM logs", "namespaces": ["payments"]},
                                                 format="json")
    assert response.status_code == 403 and "payments" in response.json()["detail"]
    assert events("query.run") == []


def test_an_unknown_namespace_is_404(world, archive):
    response = client_as(world, "engineer").post(URL, {"sql": "SELECT 1", "namespaces": ["nowhere"]}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"sql": "SELECT * FROM read_csv('/etc/passwd')"}, "sql"),
    ({"sql": "COPY (SELECT 1) TO '/tmp/x.csv'"}, "sql"),
    ({"sql": "SELECT 1; SELECT 2"}, "sql"),
    ({"sql": "SELECT 1", "date_from": "2026-11-25", "date_to": "2026-11-24"}, "date_to"),
    ({"sql": "SELECT 1", "page_size": 0}, "page_size"),
    ({"sql": "x" * 10_001}, "sql"),
    ({}, "sql"),
])
def test_bad_input_and_refused_sql_are_a_400_naming_the_field(world, archive, body, field):
    response = client_as(world, "engineer").post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_the_logs_views_columns_and_the_readable_namespaces(world, archive):
    body = client_as(world, "engineer").get(URL).json()
    assert body["view"] == "logs" and body["namespaces"] == ["payments"]
    assert {"name": "namespace", "type": "VARCHAR"} in body["columns"]
    assert {"name": "labels", "type": "MAP(VARCHAR, VARCHAR)"} in body["columns"]
    assert client_as(world, "anonymous").get(URL).status_code in (401, 403)


def test_downloads_stream_csv_and_json(world, archive):
    client = client_as(world, "engineer")
    sql = "SELECT \"offset\", pod_name FROM logs ORDER BY \"offset\""
    as_csv = client.post(f"{URL}download/", {"sql": sql, "format": "csv"}, format="json")
    as_json = client.post(f"{URL}download/", {"sql": sql, "format": "json"}, format="json")

    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(b"".join(as_csv.streaming_content).decode()))) == [
        ["offset", "pod_name"], *[[str(offset), "api-0"] for offset in range(5)]]
    assert json.loads(b"".join(as_json.streaming_content)) == [{"offset": offset, "pod_name": "api-0"}
                                                               for offset in range(5)]
    assert sorted(event.data["format"] for event in events("query.download")) == ["csv", "json"]


def test_a_download_of_refused_sql_is_a_400(world, archive):
    response = client_as(world, "engineer").post(f"{URL}download/", {"sql": "ATTACH 'x'", "format": "csv"},
                                                 format="json")
    assert response.status_code == 400 and "sql" in response.json()


def test_past_the_concurrency_bound_a_query_is_a_429_to_retry(world, archive, settings):
    settings.LOGWARDEN_QUERY_CONCURRENCY = 1
    with services.Execution(world.engineer, "SELECT 1", services.Scope(("payments",)), "query.run"):
        response = client_as(world, "engineer").post(URL, {"sql": "SELECT 2"}, format="json")
    assert response.status_code == 429 and response["Retry-After"] == "1"
    assert "retry shortly" in response.json()["detail"]
