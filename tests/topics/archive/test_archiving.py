"""Archiving on the real broker, into a local directory and into a real S3-compatible server (MinIO, started by
the harness): records produced become Parquet rows equal to them; an archive job killed with SIGKILL half-way
(a real `manage.py archive run` process) and run again leaves no gap and no duplicate; retention removes the
days its class no longer keeps, audited."""
from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest
from django.db import connection
from django.utils import timezone

from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.helpers import ROOT, eventually, require_env
from topics.archive import layout, parquet
from topics.archive import principal as archiver
from topics.archive import services as archive
from topics.archive.rotation import Limits
from topics.archive.store import store_for
from topics.catalogue import services as catalogue
from topics.kafka.adapter import ArchiveConsumer, ArchivedRecord, produce
from topics.kafka.errors import KafkaAuthorizationError
from topics.kafka.types import OutgoingRecord
from topics.models import RetentionClass

STORES = ["local", "minio"]


def brief_record(n: int) -> dict:
    return {"log": f"GET /orders/{n} 200\n", "stream": "stdout" if n % 3 else "stderr",
            "time": f"2026-11-24T10:15:{n % 60:02d}.123456Z", "docker": {"container_id": f"c{n}"},
            "kubernetes": {"namespace_name": "payments", "pod_name": f"api-{n % 4}", "pod_id": f"p{n % 4}",
                           "container_name": "api", "host": f"node-{n % 2}", "labels": {"app": "api", "n": str(n)}}}


@pytest.fixture
def s3_settings(settings):
    env = require_env("MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_BUCKET")
    settings.LOGWARDEN_ARCHIVE_S3_ENDPOINT = env["MINIO_ENDPOINT"]
    settings.LOGWARDEN_ARCHIVE_S3_ACCESS_KEY = env["MINIO_ACCESS_KEY"]
    settings.LOGWARDEN_ARCHIVE_S3_SECRET_KEY = env["MINIO_SECRET_KEY"]
    return env


@pytest.fixture(params=STORES)
def store(request, tmp_path, unique):
    """Where the test archives: a fresh directory, or a fresh prefix of MinIO's bucket."""
    if request.param == "local":
        location = str(tmp_path / "archive")
    else:
        location = f"s3://{request.getfixturevalue('s3_settings')['MINIO_BUCKET']}/{unique}"
    return SimpleNamespace(kind=request.param, location=location, store=store_for(location))


@pytest.fixture
def archived(world, unique, celery_eager, django_capture_on_commit_callbacks):
    """A namespace whose topic (two partitions) is on the broker, and the archiver's principal provisioned."""
    retention = RetentionClass.objects.create(name=f"arch-{unique}", retention_ms=7 * 86_400_000, partitions=2)
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"arch-{unique}", owner_team=world.payments,
                                                 retention_class=retention)
    topic = namespace.topics.select_related("namespace", "cluster").get()
    with django_capture_on_commit_callbacks(execute=True):
        archiver.ensure(topic.cluster)
    topic.refresh_from_db()
    eventually(lambda: _may_read(topic), bool, "the archiver's ACLs on the broker")
    return topic


def _may_read(topic) -> bool:
    try:
        committed(topic)
    except KafkaAuthorizationError:
        return False
    return True


def stored_files(store, topic) -> list[layout.ArchivedFile]:
    return archive.topic_files(store, topic)


def rows_of(store, files) -> list[dict]:
    return [row for file in files for row in pq.read_table(io.BytesIO(store.read(file.key))).to_pylist()]


def committed(topic) -> dict[int, int | None]:
    with ArchiveConsumer(archiver.connection(topic.cluster), topic.name, group=archiver.group_of(topic)) as c:
        return c.committed(c.partitions())


@pytest.mark.kafka
def test_records_produced_become_parquet_rows_equal_to_them(archived, store, kafka_connection):
    values = [json.dumps(brief_record(n)).encode() for n in range(45)] + [b"not json at all"]
    produce(kafka_connection, archived.name, values)

    result = archive.archive_topic(archived, store=store.store, limits=Limits(records=10, bytes=10**9, seconds=3600))

    files = stored_files(store.store, archived)
    rows = rows_of(store.store, files)
    assert result["files"] == len(files) > 0 and result["records"] == len(rows)
    for row in rows:
        if row["malformed"]:
            assert row["raw"] == "not json at all" and row["log"] is None
            continue
        sent = brief_record(int(row["log"].split("/")[2].split()[0]))
        kubernetes = sent["kubernetes"]
        assert row["topic"] == archived.name and row["timestamp"].tzinfo is not None
        assert (row["log"], row["stream"], row["time"], row["container_id"]) == (
            sent["log"], sent["stream"], sent["time"], sent["docker"]["container_id"])
        assert (row["pod_name"], row["pod_id"], row["container_name"], row["host"], dict(row["labels"])) == (
            kubernetes["pod_name"], kubernetes["pod_id"], kubernetes["container_name"], kubernetes["host"],
            kubernetes["labels"])
    assert len({(row["partition"], row["offset"]) for row in rows}) == len(rows)
    # every closed file holds 10 records; the rest wait (uncommitted) for the record that closes their file
    offsets = committed(archived)
    assert all(len(rows_of(store.store, [f])) == 10 for f in files)
    assert sum(offsets[f.partition] is not None for f in files) == len(files)
    for file in files:
        manifest = json.loads(store.store.read(layout.manifest_key(file)))
        assert (manifest["first_offset"], manifest["last_offset"], manifest["rows"]) == (
            file.first_offset, file.last_offset, 10)
    assert AuditEvent.objects.filter(action="archive.write", target_id=str(archived.pk)).count() == len(files)
    assert archive.check_topic(archived, store=store.store) == []
    # nothing new: a second run writes nothing and changes nothing
    assert archive.archive_topic(archived, store=store.store,
                                 limits=Limits(records=10, bytes=10**9, seconds=3600))["files"] == 0

    # a file lost from the store is a gap the check finds: the broker still holds its records
    lost = next(f for f in files if any(g.partition == f.partition and g.first_offset > f.last_offset
                                        for g in files))
    store.store.delete([lost.key, layout.manifest_key(lost)])
    assert [(p.partition, p.first_offset, p.last_offset, p.kind) for p in archive.check_topic(
        archived, store=store.store)] == [(lost.partition, lost.first_offset, lost.last_offset, "gap")]


@pytest.mark.kafka
def test_the_archiver_reads_as_its_own_principal_with_read_and_describe_only(archived, kafka_admin):
    username = archiver.connection(archived.cluster).username
    assert username == "portal.archiver.a"
    bindings = {(b.resource_type.name, b.resource_name, b.pattern_type.name, b.operation.name)
                for b in kafka_admin.describe_acls(principal=f"User:{username}")}
    assert {("TOPIC", archived.name, "LITERAL", "READ"), ("TOPIC", archived.name, "LITERAL", "DESCRIBE"),
            ("GROUP", "portal.archiver.", "PREFIXED", "READ")} <= bindings
    assert {operation for _, _, _, operation in bindings} == {"READ", "DESCRIBE"}


def _archive_process(location: str, namespace: str, records_per_file: int, action: str = "run") -> subprocess.Popen:
    """`manage.py archive run` (as the periodic job runs it) or `check`, on the test's database and store."""
    db = connection.settings_dict
    env = {**os.environ, "LOGWARDEN_ARCHIVE_STORE": location,
           "LOGWARDEN_ARCHIVE_FILE_RECORDS": str(records_per_file),
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    from django.conf import settings

    for name in ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY"):
        env[f"LOGWARDEN_ARCHIVE_S3_{name}"] = getattr(settings, f"LOGWARDEN_ARCHIVE_S3_{name}")
    return subprocess.Popen([sys.executable, "manage.py", "archive", action, "--namespace", namespace], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.kafka
@pytest.mark.django_db(transaction=True)
def test_a_job_killed_mid_file_and_run_again_leaves_no_gap_and_no_duplicate(archived, store, kafka_connection):
    records, per_file = 20_000, 50
    # placed on both partitions: keyless records may all stick to one
    produce(kafka_connection, archived.name, [OutgoingRecord(json.dumps(brief_record(n)).encode(), partition=n % 2)
                                              for n in range(records)])

    job = _archive_process(store.location, archived.namespace.name, per_file)
    try:
        deadline = time.monotonic() + 60
        while len(stored_files(store.store, archived)) < 5 and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job.poll() is None, f"the job ended before it was killed: {job.stderr.read().decode()[-2000:]}"
        job.send_signal(signal.SIGKILL)
    finally:
        job.wait(10)
    before = {file.key: hashlib.sha256(store.store.read(file.key)).hexdigest()
              for file in stored_files(store.store, archived)}
    assert 5 <= len(before) < records // per_file

    again = _archive_process(store.location, archived.namespace.name, per_file)
    assert again.wait(120) == 0, again.stderr.read().decode()[-2000:]

    files = stored_files(store.store, archived)
    offsets = sorted((row["partition"], row["offset"]) for row in rows_of(store.store, files))
    assert len(offsets) == len(set(offsets))  # no duplicate
    # all archived but the tail of each partition still waiting for its file to fill
    assert records - 2 * per_file < len(offsets) <= records
    assert archive.check_topic(archived, store=store.store) == []
    assert {f.partition for f in files if f.first_offset == 0} == {0, 1}  # both partitions from their start
    assert len({f.key for f in files}) == len(files)
    # what the killed run wrote, committed or not, the second run left or rewrote byte for byte
    assert {key: hashlib.sha256(store.store.read(key)).hexdigest() for key in before} == before
    checked = _archive_process(store.location, archived.namespace.name, per_file, "check")
    assert checked.wait(60) == 0 and "no gap, no overlap" in checked.stdout.read().decode()


@pytest.mark.django_db
def test_retention_removes_the_days_the_class_no_longer_keeps(world, store, unique):
    retention = RetentionClass.objects.create(name=f"ret-{unique}", retention_ms=86_400_000, archive_days=7)
    namespace = catalogue.register_namespace(SYSTEM, name=f"ret-{unique}", owner_team=world.payments,
                                             retention_class=retention)
    today = timezone.now().date()
    keys = {}
    for age in (8, 7, 1):
        ms = int((timezone.now() - timedelta(days=age)).timestamp() * 1000)
        records = [ArchivedRecord(0, age * 100 + n, ms + n, b"{}") for n in range(3)]
        file = parquet.file_for(namespace.name, f"logs.{namespace.name}", 0, records)
        data = parquet.encode(parquet.table_of(f"logs.{namespace.name}", 0, records))
        store.store.write(file.key, data)
        store.store.write(layout.manifest_key(file), parquet.manifest_bytes(parquet.manifest_of(file, records, data)))
        keys[age] = file

    deleted = archive.apply_retention(today=today, store=store.store)

    assert deleted == [layout.day_prefix(namespace.name, keys[8].day)]
    remaining = {obj.key for obj in store.store.list()}
    assert keys[8].key not in remaining and layout.manifest_key(keys[8]) not in remaining
    assert {keys[7].key, keys[1].key, layout.manifest_key(keys[1])} <= remaining
    event = AuditEvent.objects.get(action="archive.delete", target_id=str(namespace.pk))
    assert event.data["files"] == [keys[8].key] and event.data["day"] == keys[8].day.isoformat()
    assert archive.apply_retention(today=today, store=store.store) == []  # repeated: nothing more


@pytest.mark.kafka
def test_the_periodic_pass_archives_each_topic_with_its_own_job(archived, kafka_connection, settings, tmp_path,
                                                                celery_eager):
    from topics import tasks
    from topics.archive.store import default_store

    settings.LOGWARDEN_ARCHIVE_STORE = str(tmp_path / "periodic")
    settings.LOGWARDEN_ARCHIVE_FILE_RECORDS = 5
    default_store.cache_clear()
    try:
        produce(kafka_connection, archived.name, [json.dumps(brief_record(n)).encode() for n in range(20)])
        results = tasks.archive_all()
        files = stored_files(default_store(), archived)
    finally:
        default_store.cache_clear()
    assert set(results) >= {"archiver", archived.name, "retention"}
    assert "error" not in str(results)
    assert sum(len(rows_of(store_for(str(tmp_path / "periodic")), [f])) for f in files) >= 20 - 2 * 5
    assert settings.CELERY_BEAT_SCHEDULE["archive-topics"]["task"] == "topics.archive_all"
