"""Reading logs on the real broker as the portal's reader principal: records of the brief's shape, newest first
across three partitions; time seek by offsets_for_times; filters and paging; how far back a grant reads; one
audit event per read; no grant, nothing read; and the broker itself refusing the reader an unmanaged topic."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from tests.helpers import events
from tests.logs_helpers import MALFORMED, RECORDS, shipped
from topics.kafka.adapter import LogReader, produce
from topics.kafka.errors import KafkaAuthorizationError
from topics.kafka.types import OutgoingRecord, TopicSpec
from topics.logs import reader, services
from topics.logs.records import LogFilter
from topics.models import KafkaPrincipal, ReadFrom, SensitivityPolicy

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]


def lines(page) -> list[str]:
    return [record.raw if record.malformed else record.log.strip() for record in page.records]


def read_all(who, namespace, log_filter, page_size):
    pages, cursor = [], None
    while True:
        page = services.read_page(who, namespace, log_filter, cursor=cursor, page_size=page_size).page
        pages.append(page)
        if page.older is None:
            return pages
        cursor = page.older


def test_a_granted_person_reads_records_of_the_brief_s_shape_newest_first(logs):
    page = services.read_page(logs.holder, logs.namespace, LogFilter(), page_size=5).page
    assert lines(page) == [MALFORMED.decode(), "line 29", "line 28", "line 27", "line 26"]
    assert page.records[0].malformed and not any(record.malformed for record in page.records[1:])
    shown = page.records[1].as_json()
    assert {key: shown[key] for key in ("log", "stream", "time", "docker", "kubernetes")} == shipped(
        logs.namespace.name, 29)
    assert (shown["partition"], shown["timestamp"][:19]) == (29 % 3, page.records[1].timestamp.isoformat()[:19])

    (event,) = events("logs.read")
    assert event.actor == logs.holder and event.target_label == logs.namespace.name
    assert event.data["mode"] == "page" and event.data["records"] == 5 and event.data["topic"] == logs.topic.name
    assert event.data["filter"] == {} and event.data["window"] == {"since": None, "until": None}
    # offsets range per partition: 29 and 26 are offsets 9 and 8 of partition 2; 28 is offset 9 of partition 1;
    # 27 offset 9 and the malformed value offset 10 of partition 0
    assert event.data["offsets"] == {"0": [9, 10], "1": [9, 9], "2": [8, 9]}


def test_pages_walk_every_record_once_and_newer_goes_back(logs):
    pages = read_all(logs.holder, logs.namespace, LogFilter(), page_size=7)
    assert [line for page in pages for line in lines(page)] == [MALFORMED.decode()] + [
        f"line {i}" for i in range(RECORDS - 1, -1, -1)]
    back = services.read_page(logs.holder, logs.namespace, LogFilter(), cursor=pages[2].newer, page_size=7).page
    assert lines(back) == lines(pages[1])
    assert len(events("logs.read")) == len(pages) + 1  # one audit event per read


def test_a_time_range_seeks_by_offsets_and_reads_only_its_window(logs):
    since, until = logs.base + 10_000, logs.base + 20_000
    page = services.read_page(logs.holder, logs.namespace, LogFilter(since_ms=since, until_ms=until),
                              page_size=100).page
    assert lines(page) == [f"line {i}" for i in range(19, 9, -1)]
    assert page.scanned == 10 and page.older is None  # the broker's time index, never a scan from the start
    (event,) = events("logs.read")
    assert event.data["window"]["since"].startswith(page.records[-1].timestamp.isoformat()[:19])


@pytest.mark.parametrize(("log_filter", "expected"), [
    (LogFilter(pod="-b"), lambda i: i % 2 == 1),
    (LogFilter(container="sidecar"), lambda i: i % 3 == 2),
    (LogFilter(stream="stderr"), lambda i: i % 5 == 0),
    (LogFilter(labels={"tier": "backend"}), lambda i: i < 15),
    (LogFilter(text="LINE 2"), lambda i: str(i).startswith("2")),
    (LogFilter(pattern=r"^line 1\d$"), lambda i: 10 <= i <= 19),
    (LogFilter(pod="-a", stream="stdout", labels={"tier": "frontend"}), lambda i: i % 2 == 0 and i % 5 and i >= 15),
])
def test_filters_page_across_partitions(logs, log_filter, expected):
    pages = read_all(logs.holder, logs.namespace, log_filter, page_size=3)
    assert [line for page in pages for line in lines(page)] == [
        f"line {i}" for i in range(RECORDS - 1, -1, -1) if expected(i)]
    assert events("logs.read")[0].data["filter"] == log_filter.described()


def test_text_finds_a_malformed_value_too(logs):
    page = services.read_page(logs.holder, logs.namespace, LogFilter(text="not json"), page_size=10).page
    assert lines(page) == [MALFORMED.decode()] and page.records[0].malformed


def test_a_grant_of_a_policy_reading_from_the_grant_s_start_sees_nothing_older(logs):
    SensitivityPolicy.objects.filter(level=logs.namespace.sensitivity).update(read_from=ReadFrom.GRANT_START)
    starts = logs.base + 25_000
    type(logs.grant).objects.filter(pk=logs.grant.pk).update(valid_from=datetime.fromtimestamp(starts / 1000, UTC))
    read = services.read_page(logs.holder, logs.namespace, LogFilter(since_ms=logs.base), page_size=100)
    assert lines(read.page) == [MALFORMED.decode()] + [f"line {i}" for i in range(29, 24, -1)]
    assert read.readable_since.timestamp() * 1000 == starts
    assert events("logs.read")[0].data["window"]["since"] == read.readable_since.isoformat()


def test_a_follow_audits_once_per_interval_and_ends_when_the_grant_expires(logs, kafka_connection, monkeypatch,
                                                                          settings):
    monkeypatch.setattr(services, "FOLLOW_AUDIT_SECONDS", 1)
    settings.LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS = 1
    stream, opened = services.Follow(logs.holder, logs.namespace, LogFilter(text="fresh")), time.monotonic()
    fresh = [{**shipped(logs.namespace.name, i), "log": f"fresh {i}\n"} for i in (1, 2)]
    # one partition: a follow keeps each partition's order, not an order across partitions
    produce(kafka_connection, logs.topic.name, [OutgoingRecord(json.dumps(value).encode(), partition=0) for value in
                                                fresh + [shipped(logs.namespace.name, 3)]])
    got, deadline = [], time.monotonic() + 10
    while len(got) < 2 and time.monotonic() < deadline:
        got += [chunk for chunk in stream.step() if chunk.startswith(b"event: record")]
    assert [json.loads(chunk.split(b"data: ", 1)[1])["log"] for chunk in got] == ["fresh 1\n", "fresh 2\n"]
    time.sleep(1.1)
    stream.step()
    audited = [e for e in events("logs.read") if e.data["mode"] == "follow"]
    # one event per interval the stream ran (here 1 s), however many records it carried
    assert 1 <= len(audited) <= time.monotonic() - opened + 1
    assert sum(e.data["records"] for e in audited) == 2 and audited[0].data["filter"] == {"text": "fresh"}
    assert {p for e in audited for p in e.data["offsets"]} <= {"0", "1", "2"}

    type(logs.grant).objects.filter(pk=logs.grant.pk).update(valid_until=datetime.now(UTC) + timedelta(seconds=1))
    expires = time.monotonic()
    while not stream.ended:
        assert time.monotonic() - expires < 5, "the stream ends within 5 s of the grant's end"
        last = stream.step()
    assert last == [b'event: end\ndata: {"reason": "the grant has ended"}\n\n']
    stream.close()
    assert sum(e.data["records"] for e in events("logs.read") if e.data["mode"] == "follow") == 2


def test_a_download_gives_the_records_of_the_pages_in_their_order_and_stops_when_the_grant_ends(
        logs, monkeypatch, settings):
    monkeypatch.setattr(services, "DOWNLOAD_CHUNK", 4)  # each partition read backwards in several chunks
    monkeypatch.setattr(services, "DOWNLOAD_STEP", 3)
    paged = [record for page in read_all(logs.holder, logs.namespace, LogFilter(), page_size=7) for record in
             page.records]
    rows = [json.loads(line) for chunk in services.Download(logs.holder, logs.namespace, LogFilter())
            for line in chunk.splitlines()]
    assert [(row["partition"], row["offset"], row["timestamp"]) for row in rows] == [
        (record.partition, record.offset, record.as_json()["timestamp"]) for record in paged]
    assert rows[0]["malformed"] and rows[0]["raw"] == MALFORMED.decode() and rows[0]["log"] == ""
    assert not any(row["malformed"] for row in rows[1:])
    assert {key: rows[1][key] for key in ("log", "stream", "time", "docker", "kubernetes")} == shipped(
        logs.namespace.name, 29)
    (event,) = [event for event in events("logs.read") if event.data["mode"] == "download"]
    assert event.data["records"] == RECORDS + 1 and event.data["source"] == "live"
    assert event.data["offsets"] == {"0": [0, 10], "1": [0, 9], "2": [0, 9]}

    # a time range alone parses nothing to match; a limit bounds the download
    since = services.Download(logs.holder, logs.namespace, LogFilter(since_ms=logs.base + 20_000), limit=4)
    assert [json.loads(line)["raw"] or json.loads(line)["log"] for chunk in since for line in chunk.splitlines()] == [
        MALFORMED.decode(), "line 29\n", "line 28\n", "line 27\n"]
    filtered = services.Download(logs.holder, logs.namespace, LogFilter(pod="-a", stream="stderr"))
    assert [json.loads(line)["log"] for chunk in filtered for line in chunk.splitlines()] == [
        f"line {i}\n" for i in (20, 10, 0)]

    settings.LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS = 1
    download = services.Download(logs.holder, logs.namespace, LogFilter())
    assert len(download.step()[0].splitlines()) == 3
    type(logs.grant).objects.filter(pk=logs.grant.pk).update(valid_until=datetime.now(UTC) - timedelta(seconds=1))
    time.sleep(1.1)
    assert download.step() == [] and download.ended
    download.close()
    (event,) = [event for event in events("logs.read") if event.data.get("grant_ended")]
    assert event.data["records"] == 3


def test_without_a_grant_nothing_is_read(world, logs):
    for who in (world.owner, world.admin, world.outsider, world.service_account.user):
        with pytest.raises(PermissionDenied):
            services.read_page(who, logs.namespace, LogFilter(), page_size=10)
        with pytest.raises(PermissionDenied):
            services.Follow(who, logs.namespace, LogFilter())
    assert events("logs.read") == []


def test_the_broker_refuses_the_reader_a_topic_logwarden_does_not_manage(logs, kafka_admin, kafka_connection,
                                                                         unique):
    unmanaged = f"unmanaged-{unique}"
    kafka_admin.ensure_topics([TopicSpec(unmanaged)])
    produce(kafka_connection, unmanaged, [json.dumps(shipped("x", 1)).encode()])
    as_reader = reader.connection(logs.topic.cluster)
    assert as_reader.username.startswith(reader.PRINCIPAL)
    assert KafkaPrincipal.objects.get(name=reader.PRINCIPAL).system_role == reader.ROLE
    with LogReader(as_reader, unmanaged) as kafka, pytest.raises(KafkaAuthorizationError):
        kafka.partitions()
    with LogReader(as_reader, unmanaged) as kafka:  # a fetch gets nothing either (librdkafka reports no error)
        assert kafka.read(0, 0, 1, deadline=time.monotonic() + 3) == []
    with LogReader(kafka_connection, unmanaged) as kafka:  # while the record is there
        assert len(kafka.read(0, 0, 1, deadline=time.monotonic() + 5)) == 1
    kafka_admin.delete_topics([unmanaged])
