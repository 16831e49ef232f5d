"""Searching archived days from the logs view: Parquet files as the archiver writes them, in a test's own store,
found by the logs API and page with each filter, newest first across partitions and days, paged both ways; the
grant rule (403, read_from) and one audit event per read naming the files read."""
from __future__ import annotations

import json

from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pytest
from django.utils import timezone as django_timezone

from tests.api_clients import client_as
from tests.helpers import events, html
from tests.topics.archive.test_archiving import s3_settings  # noqa: F401  (the fixture)
from tests.topics.query.archive_files import live_grant, records, temporary_store, write
from topics.archive import layout
from topics.archive.store import store_for
from topics.logs.archived import ArchiveSearch, pushed_down
from topics.logs.records import Budget, LogFilter, from_archived
from topics.models import Grant, ReadFrom, SensitivityPolicy

DAY1, DAY2 = date(2026, 11, 23), date(2026, 11, 24)
MALFORMED = "not json {"


def table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=layout.RECORD_SCHEMA)


def rows_of(namespace: str, topic: str, day: date, **shape) -> list[dict]:
    return [dict(row, topic=topic) for row in records(namespace, day, **shape).to_pylist()]


def archive_of(store, namespace: str, topic: str) -> dict[str, str]:
    """Day 1: partition 0, offsets 0-3 (pod api-0). Day 2: partition 0, offsets 4-7 (5 on stderr, 6 labelled
    tier=frontend, 7 malformed), and partition 1, offsets 0-2 (pod api-1). Records are 10:00:00 + n s UTC."""
    second = rows_of(namespace, topic, DAY2, first=4, count=3)
    second[1]["stream"] = "stderr"
    second[2]["labels"] = [("app", "api"), ("tier", "frontend")]
    second.append({**{name: None for name in layout.RECORD_SCHEMA.names}, "topic": topic, "partition": 0,
                   "offset": 7, "timestamp": second[0]["timestamp"] + timedelta(seconds=3), "malformed": True,
                   "raw": MALFORMED})
    return {"day1": write(store, namespace, DAY1, table(rows_of(namespace, topic, DAY1, count=4))),
            "day2": write(store, namespace, DAY2, table(second)),
            "day2-p1": write(store, namespace, DAY2, table(rows_of(namespace, topic, DAY2, partition=1, count=3)))}


NEWEST_FIRST = [(0, 7), (0, 6), (1, 2), (0, 5), (1, 1), (0, 4), (1, 0), (0, 3), (0, 2), (0, 1), (0, 0)]


# --- pure: the search over files in a directory ------------------------------------------------------------------

def test_an_archived_row_is_the_record_a_live_read_gives():
    (row,) = rows_of("pay", "logs.pay", DAY1, count=1)
    record = from_archived({**row, "namespace": "pay"})
    assert record.as_json() == {
        "partition": 0, "offset": 0, "timestamp": "2026-11-23T10:00:00+00:00", "malformed": False, "raw": "",
        "log": "GET /orders/0 200\n", "stream": "stdout", "time": "2026-11-23T10:00:00+00:00",
        "docker": {"container_id": "5f1c"},
        "kubernetes": {"namespace_name": "pay", "pod_name": "api-0", "pod_id": "0b7e", "container_name": "api",
                       "host": "node-12", "labels": {"app": "api", "tier": "backend"}}}


def test_the_search_lanes_are_the_files_partitions_and_its_reads_are_pushed_down(tmp_path):
    store = store_for(str(tmp_path))
    archive_of(store, "pay", "logs.pay")
    write(store, "pay", DAY2, table(rows_of("pay", "logs.old", DAY2, count=2)))  # another topic's files
    search = ArchiveSearch(store, "pay", "logs.pay", LogFilter(), None)
    assert search.windows() == {0: (0, 8), 1: (0, 3)}
    fetch = search.fetcher(Budget.of(10))
    assert [r.offset for r in fetch(0, 2, 6)] == [2, 3, 4, 5]
    assert search.read == {"namespace=pay/date=2026-11-23/logs.pay+0+0-3.parquet",
                           "namespace=pay/date=2026-11-24/logs.pay+0+4-7.parquet"}
    stderr = ArchiveSearch(store, "pay", "logs.pay", LogFilter(stream="stderr", text="ORDERS"), None)
    assert [r.offset for r in stderr.fetcher(Budget.of(10))(0, 0, 8)] == [5]
    assert str(pushed_down(LogFilter())) == "true"


def test_the_time_range_lists_only_its_days(tmp_path):
    store = store_for(str(tmp_path))
    archive_of(store, "pay", "logs.pay")
    until = int(datetime(2026, 11, 24, tzinfo=timezone.utc).timestamp() * 1000)
    search = ArchiveSearch(store, "pay", "logs.pay", LogFilter(until_ms=until), None)
    assert search.windows() == {0: (0, 4)}
    since = ArchiveSearch(store, "pay", "logs.pay", LogFilter(since_ms=until), None)
    assert since.windows() == {0: (4, 8), 1: (0, 3)}


# --- through the API and the page, on the real PostgreSQL ----------------------------------------------------------



@pytest.fixture(params=["local", "minio"])
def archived(request, world, settings, tmp_path, unique):
    """The archive of payments, in a fresh directory or a fresh prefix of MinIO's bucket: name → file key."""
    grant = live_grant(world.engineer, world.ns_payments)
    location = tmp_path / "archive"
    if request.param == "minio":
        location = f"s3://{request.getfixturevalue('s3_settings')['MINIO_BUCKET']}/{unique}"
    with temporary_store(settings, location) as store:
        paths = archive_of(store, "payments", grant.topic.name)
        yield {name: path[len(store.root) + 1:] for name, path in paths.items()}


def url(world) -> str:
    return f"/api/namespaces/{world.ns_payments.name}/logs/"


def where(body) -> list[tuple[int, int]]:
    return [(record["partition"], record["offset"]) for record in body["records"]]


@pytest.mark.django_db
def test_the_api_pages_the_archive_newest_first_both_ways(world, archived):
    alice = client_as(world, "engineer")
    first = alice.get(url(world), {"source": "archive", "page_size": 3})
    assert first.status_code == 200, first.content
    body = first.json()
    assert where(body) == NEWEST_FIRST[:3] and body["older"]
    assert body["records"][0]["malformed"] and body["records"][0]["raw"] == MALFORMED
    assert body["records"][1]["kubernetes"]["namespace_name"] == "payments"
    assert body["records"][1]["kubernetes"]["labels"] == {"app": "api", "tier": "frontend"}
    second = alice.get(url(world), {"source": "archive", "page_size": 3, "cursor": body["older"]}).json()
    assert where(second) == NEWEST_FIRST[3:6]
    back = alice.get(url(world), {"source": "archive", "page_size": 3, "cursor": second["newer"]}).json()
    assert back["records"] == body["records"]
    rest = alice.get(url(world), {"source": "archive", "page_size": 50, "cursor": second["older"]}).json()
    assert where(rest) == NEWEST_FIRST[6:] and rest["older"] is None

    reads = events("logs.read")[::-1]  # in the order read
    assert len(reads) == 4 and {e.data["source"] for e in reads} == {"archive"}
    assert reads[0].data["mode"] == "page" and reads[0].data["records"] == 3
    assert reads[0].data["files"] == sorted(archived.values())
    assert reads[0].data["offsets"] == {"0": [6, 7], "1": [2, 2]}


@pytest.mark.django_db
def test_the_archive_downloads_as_ndjson_and_a_follow_of_it_is_a_400_naming_source(world, archived):
    alice = client_as(world, "engineer")
    response = alice.get(f"{url(world)}download/", {"source": "archive"})
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [(row["partition"], row["offset"]) for row in rows] == NEWEST_FIRST
    assert rows[0]["malformed"] and rows[0]["raw"] == MALFORMED
    assert rows[1]["kubernetes"]["labels"] == {"app": "api", "tier": "frontend"}
    filtered = alice.get(f"{url(world)}download/", {"source": "archive", "pod": "api-1", "limit": 2})
    assert [(row["partition"], row["offset"]) for row in map(json.loads, b"".join(
        filtered.streaming_content).splitlines())] == [(1, 2), (1, 1)]
    downloads = [e for e in events("logs.read") if e.data["mode"] == "download"]
    assert len(downloads) == 2 and {e.data["source"] for e in downloads} == {"archive"}
    assert sorted(e.data["records"] for e in downloads) == [2, len(NEWEST_FIRST)]
    assert all(e.data["files"] for e in downloads)

    follow = alice.get(f"{url(world)}follow/", {"source": "archive"})
    assert follow.status_code == 400 and "source" in follow.json() and "live" in follow.json()["source"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("query, expected", [
    ({"pod": "api-1"}, [(1, 2), (1, 1), (1, 0)]),
    ({"container": "api"}, [at for at in NEWEST_FIRST if at != (0, 7)]),
    ({"stream": "stderr"}, [(0, 5)]),
    ({"labels": "tier=frontend"}, [(0, 6)]),
    ({"text": "ORDERS/3 "}, [(0, 3)]),
    ({"regex": r"orders/[46] "}, [(0, 6), (0, 4)]),
    ({"text": "not json"}, [(0, 7)]),
    ({"since": "2026-11-24T10:00:02Z"}, [(0, 7), (0, 6), (1, 2)]),
    ({"until": "2026-11-24T00:00:00Z"}, [(0, 3), (0, 2), (0, 1), (0, 0)]),
    ({"since": "2026-11-23T10:00:01Z", "until": "2026-11-23T10:00:03Z"}, [(0, 2), (0, 1)]),
])
def test_each_filter_finds_its_archived_records(world, archived, query, expected):
    answered = client_as(world, "engineer").get(url(world), {"source": "archive", **query})
    assert answered.status_code == 200, answered.content
    assert where(answered.json()) == expected
    (event,) = events("logs.read")
    assert event.data["source"] == "archive" and event.data["records"] == len(expected)


@pytest.mark.django_db
def test_a_day_outside_the_time_range_is_not_read(world, archived):
    client_as(world, "engineer").get(url(world), {"source": "archive", "until": "2026-11-24T00:00:00Z"})
    (event,) = events("logs.read")
    assert event.data["files"] == [archived["day1"]]
    assert event.data["window"] == {"since": None, "until": "2026-11-24T00:00:00+00:00"}


@pytest.mark.django_db
def test_an_ungranted_namespace_is_403_and_nothing_is_read(world, archived):
    for role in ("outsider", "owner", "service_account"):
        assert client_as(world, role).get(url(world), {"source": "archive"}).status_code == 403, role
    answered = client_as(world, "engineer").get(url(world), {"source": "tape"})
    assert answered.status_code == 400 and "source" in answered.json()
    assert events("logs.read") == []


@pytest.mark.django_db
def test_an_ended_grant_reads_no_archive(world, archived):
    Grant.objects.filter(principal__user=world.engineer).update(valid_until=django_timezone.now())
    assert client_as(world, "engineer").get(url(world), {"source": "archive"}).status_code == 403
    assert events("logs.read") == []


@pytest.mark.django_db
def test_a_grant_read_only_from_its_start_sees_no_archived_record_before_it(world, archived):
    SensitivityPolicy.objects.filter(level=world.ns_payments.sensitivity).update(read_from=ReadFrom.GRANT_START)
    Grant.objects.filter(principal__user=world.engineer).update(
        valid_from=datetime(2026, 11, 24, 10, 0, 2, tzinfo=timezone.utc))
    body = client_as(world, "engineer").get(url(world), {"source": "archive"}).json()
    assert where(body) == [(0, 7), (0, 6), (1, 2)]
    assert body["readable_since"] == "2026-11-24T10:00:02Z"
    (event,) = events("logs.read")
    assert not any("2026-11-23" in key for key in event.data["files"])  # the earlier day is not even listed


@pytest.mark.django_db
def test_the_page_searches_the_archive(world, archived, client):
    client.force_login(world.engineer)
    page = client.get(f"/namespaces/{world.ns_payments.name}/logs/", {"source": "archive", "pod": "api-1",
                                                                       "page_size": 2})
    assert page.status_code == 200
    text = html(page)
    assert "GET /orders/2 200" in text and "GET /orders/1 200" in text and "GET /orders/0 200" not in text
    assert 'id="archive-source"' in text and 'id="follow"' not in text and "Older" in text
    assert f"/api/namespaces/{world.ns_payments.name}/logs/download/?source=archive" in text
    assert 'value="archive" selected' in text
    malformed = html(client.get(f"/namespaces/{world.ns_payments.name}/logs/", {"source": "archive",
                                                                                "text": "not json"}))
    assert 'class="malformed"' in malformed and MALFORMED in malformed
    (older,) = [line for line in text.split('"') if line.startswith("?") and "cursor=" in line]
    then = html(client.get(f"/namespaces/{world.ns_payments.name}/logs/{older.replace('&amp;', '&')}"))
    assert "GET /orders/0 200" in then and "GET /orders/2 200" not in then
    assert [e.data["source"] for e in events("logs.read")] == ["archive"] * 3
    client.force_login(world.outsider)
    assert client.get(f"/namespaces/{world.ns_payments.name}/logs/", {"source": "archive"}).status_code == 403


@pytest.mark.django_db
def test_a_search_that_spends_its_budget_stops_with_a_cursor_that_continues(world, archived, settings):
    alice = client_as(world, "engineer")
    settings.LOGWARDEN_LOGS_SEARCH_SECONDS = 0
    spent = alice.get(url(world), {"source": "archive", "regex": "orders/[0-9]"}).json()
    assert spent["budget_spent"] and spent["records"] == [] and spent["older"]
    settings.LOGWARDEN_LOGS_SEARCH_SECONDS = 5
    rest = alice.get(url(world), {"source": "archive", "regex": "orders/[0-9]", "cursor": spent["older"]}).json()
    assert where(rest) == [at for at in NEWEST_FIRST if at != (0, 7)] and not rest["budget_spent"]
    assert [e.data["budget_spent"] for e in events("logs.read")[::-1]] == [True, False]


@pytest.mark.django_db
def test_an_archive_that_cannot_be_read_is_a_503_not_a_crash(world, settings):
    """A bucket on an S3 endpoint nothing listens on."""
    live_grant(world.engineer, world.ns_payments)
    settings.LOGWARDEN_ARCHIVE_S3_ENDPOINT, settings.LOGWARDEN_ARCHIVE_S3_ACCESS_KEY = "http://127.0.0.1:9", "key"
    settings.LOGWARDEN_ARCHIVE_S3_SECRET_KEY = "secret-of-the-test"
    with temporary_store(settings, "s3://archive"):
        answered = client_as(world, "engineer").get(url(world), {"source": "archive"})
    assert answered.status_code == 503 and "cannot be listed" in answered.json()["detail"]
    assert "secret-of-the-test" not in answered.content.decode()
    assert events("logs.read") == []
