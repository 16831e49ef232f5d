"""Archiving topics to Parquet exactly once, checking the archive, its retention, and reading it back.

A run of one topic reads each partition from the archiver's committed offset up to the high watermark it saw
when it started (a bounded run), cuts the records into files (topics.archive.rotation: boundaries from the
records alone), and for each closed file writes the Parquet object, then its manifest, both durably
(ArchiveStore.write), and only then commits the offset after the file's last record. A run killed anywhere
restarts from the last committed offset and, the boundaries being the same, rewrites the same keys: nothing is
lost, nothing duplicated. Runs of one topic are serialised by a database lock.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from portal.core import audit, locks
from topics import policy
from topics.archive import check, layout, parquet
from topics.archive import principal as archiver
from topics.archive.rotation import Limits, Record, Rotation
from topics.archive.store import ArchiveStore, StoredObject, default_store
from topics.kafka.adapter import ArchiveConsumer
from topics.models import Lifecycle, Namespace, RetentionClass, Topic, TopicState


def archive_topic(topic: Topic, *, store: ArchiveStore | None = None, limits: Limits | None = None,
                  wait: bool = False) -> dict:
    """One bounded run for the topic; what it wrote, or why it did nothing (another run holds the topic, and
    `wait` is off: the periodic job never queues up behind a long run)."""
    store = store or default_store()
    limits = limits or Limits.from_settings()
    with locks.held(locks.LockSpace.ARCHIVE_TOPIC, topic.pk, wait=wait) as held:
        if not held:
            return {"topic": topic.name, "skipped": "another run archives this topic"}
        files = records = 0
        with ArchiveConsumer(archiver.connection(topic.cluster), topic.name, group=archiver.group_of(topic)) \
                as consumer:
            partitions = consumer.partitions()
            committed = consumer.committed(partitions)
            for partition in partitions:
                low, high = consumer.watermarks(partition)
                start = low if committed[partition] is None else max(committed[partition], low)
                rotation = Rotation(limits)
                for batch in consumer.read(partition, start, high):
                    for file_records in rotation.add_all(batch):
                        _write(store, topic, partition, file_records)
                        consumer.commit(partition, file_records[-1].offset + 1)
                        files, records = files + 1, records + len(file_records)
        return {"topic": topic.name, "files": files, "records": records}


def _write(store: ArchiveStore, topic: Topic, partition: int, records: Sequence[Record]) -> layout.ArchivedFile:
    file = parquet.file_for(topic.namespace.name, topic.name, partition, records)
    data = parquet.encode(parquet.table_of(topic.name, partition, records))
    manifest = parquet.manifest_of(file, records, data)
    store.write(file.key, data)
    store.write(layout.manifest_key(file), parquet.manifest_bytes(manifest))
    audit.record(audit.SYSTEM, "archive.write", topic, key=file.key, partition=partition,
                 first_offset=file.first_offset, last_offset=file.last_offset, rows=manifest["rows"],
                 sha256=manifest["sha256"])
    return file


def archivable_topics():
    """The topics a periodic pass archives: those on the broker, of namespaces not retired."""
    return (Topic.objects.filter(state=TopicState.READY).exclude(namespace__lifecycle=Lifecycle.RETIRED)
            .select_related("namespace", "cluster"))


def ensure_archiver(topics: Sequence[Topic]) -> None:
    """The archiver's principal on each of the topics' clusters (its first reconcile then makes the user)."""
    for cluster in {topic.cluster for topic in topics}:
        archiver.ensure(cluster)


# --- the check --------------------------------------------------------------------------------------------

def topic_files(store: ArchiveStore, topic: Topic) -> list[layout.ArchivedFile]:
    parsed = (layout.parse(stored.key) for stored in store.list(layout.namespace_prefix(topic.namespace.name)))
    return sorted(file for file in parsed if file is not None and file.topic == topic.name)


def _manifest(store: ArchiveStore, file: layout.ArchivedFile) -> dict[str, Any] | None:
    try:
        manifest = json.loads(store.read(layout.manifest_key(file)))
    except (FileNotFoundError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def check_topic(topic: Topic, *, store: ArchiveStore | None = None) -> list[check.Problem]:
    """The topic's offset gaps, overlaps and manifest problems (the rule: topics.archive.check)."""
    store = store or default_store()
    files = topic_files(store, topic)
    manifests = {file.key: _manifest(store, file) for file in files}
    with ArchiveConsumer(archiver.connection(topic.cluster), topic.name, group=archiver.group_of(topic)) \
            as consumer:
        partitions = consumer.partitions()
        committed = {p: offset for p, offset in consumer.committed(partitions).items() if offset is not None}
        low_watermarks = {p: consumer.watermarks(p)[0] for p in partitions}

        def records_between(partition: int, first: int, last: int) -> bool:
            with closing(consumer.read(partition, first, last + 1, batch=1)) as batches:
                return next(batches, None) is not None

        return check.find_problems(files, manifests, low_watermarks=low_watermarks, committed=committed,
                                   records_between=records_between)


# --- retention --------------------------------------------------------------------------------------------

def apply_retention(*, today: date | None = None, store: ArchiveStore | None = None) -> list[str]:
    """Deletes the archived days older than their namespace's retention class keeps (`archive_days`; none kept
    forever), files and manifests, one audit event per namespace and day. Returns what it deleted, as day
    prefixes."""
    store = store or default_store()
    today = today or timezone.now().date()
    deleted = []
    for retention_class in RetentionClass.objects.filter(archive_days__isnull=False):
        oldest_kept = today - timedelta(days=retention_class.archive_days)
        for namespace in retention_class.namespaces.all():
            for day, stored in days_of(store, namespace.name).items():
                if day >= oldest_kept:
                    continue
                keys = [obj.key for obj in stored]
                manifests = [layout.manifest_key(file) for file in map(layout.parse, keys) if file is not None]
                store.delete(keys + manifests)
                audit.record(audit.SYSTEM, "archive.delete", namespace, day=day.isoformat(), files=keys,
                             retention_class=retention_class.name, archive_days=retention_class.archive_days)
                deleted.append(layout.day_prefix(namespace.name, day))
    return deleted


# --- browsing ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArchivedDay:
    day: date
    files: int
    bytes: int


@dataclass(frozen=True)
class StoredFile:
    file: layout.ArchivedFile
    size: int

    @property
    def name(self) -> str:
        return self.file.key.rpartition("/")[2]


def days_of(store: ArchiveStore, namespace: str) -> dict[date, list[StoredObject]]:
    """The namespace's archived files by day, oldest day first."""
    days: dict[date, list[StoredObject]] = defaultdict(list)
    for stored in store.list(layout.namespace_prefix(namespace)):
        file = layout.parse(stored.key)
        if file is not None and file.namespace == namespace:
            days[file.day].append(stored)
    return dict(sorted(days.items()))


def readable_since(who, namespace: Namespace) -> datetime | None:
    """The earliest record time `who` may read of the namespace (its sensitivity policy's read_from): None for
    all the archive holds."""
    return policy.logs_readable_since(namespace, list(policy.live_read_grants(who, namespace)))


def archived_days(who, namespace: Namespace, *, store: ArchiveStore | None = None) -> list[ArchivedDay]:
    """The days `who` may read, newest first: none before their earliest running grant's start where the
    namespace reads only from there."""
    since = readable_since(who, namespace)
    days = days_of(store or default_store(), namespace.name)
    return [ArchivedDay(day, len(stored), sum(s.size for s in stored)) for day, stored in reversed(days.items())
            if since is None or day >= since.date()]


def files_of_day(who, namespace: Namespace, day: date, *, store: ArchiveStore | None = None) -> list[StoredFile]:
    since = readable_since(who, namespace)
    if since is not None and day < since.date():
        return []
    store = store or default_store()
    stored = store.list(layout.day_prefix(namespace.name, day))
    files = [(layout.parse(s.key), s.size) for s in stored]
    return sorted((StoredFile(file, size) for file, size in files if file is not None),
                  key=lambda f: (f.file.topic, f.file.partition, f.file.first_offset))


def open_file(who, namespace: Namespace, day: date, name: str, *, store: ArchiveStore | None = None):
    """(the file, its size, a binary stream of it) for a download by `who` (audited), or None when the day holds
    no such file (or a day `who` may not read). PermissionDenied for a whole file that holds records from before
    the time `who` may read from. The caller checked the policy."""
    store = store or default_store()
    file = layout.parse(f"{layout.day_prefix(namespace.name, day)}{name}")
    since = readable_since(who, namespace)
    if file is None or (since is not None and day < since.date()):
        return None
    try:
        stream = store.open(file.key)
    except FileNotFoundError:
        return None
    if since is not None and day == since.date() and not parquet.starts_at_or_after(stream, since):
        stream.close()
        raise PermissionDenied(f"This file holds records from before {since.isoformat()}, where your access to "
                               f"{namespace.name} starts: query that day on the query page, which shows only what "
                               f"you may read.")
    size = stream.size()
    audit.record(who, "archive.download", namespace, key=file.key, bytes=size)
    return file, size, stream
