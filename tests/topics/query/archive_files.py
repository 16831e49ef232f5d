"""Archived Parquet files as the archiver leaves them (topics.archive.layout's keys and schema), written with
pyarrow into a test's own store, and live grants to read them."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
from django.utils import timezone as django_timezone

from topics.archive import layout
from topics.archive.store import ArchiveStore, default_store, store_for
from tests.factories import topic_of
from topics.models import Grant, GrantSource, Namespace
from topics.provisioning.principals import principal_for


@contextmanager
def temporary_store(settings, location) -> Iterator[ArchiveStore]:
    """The archive store at `location` (a directory, or s3://…) while the block runs, in place of
    LOGWARDEN_ARCHIVE_STORE (`settings` is pytest-django's fixture, which restores it)."""
    settings.LOGWARDEN_ARCHIVE_STORE = str(location)
    default_store.cache_clear()
    try:
        yield store_for(settings.LOGWARDEN_ARCHIVE_STORE)
    finally:
        default_store.cache_clear()


def records(namespace: str, day: date, *, partition: int = 0, first: int = 0, count: int = 3) -> pa.Table:
    """`count` brief-shaped records of the namespace's topic on the day, one second apart."""
    start = datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc)
    return pa.Table.from_pylist([{
        "topic": f"logs.{namespace}", "partition": partition, "offset": first + index,
        "timestamp": start + timedelta(seconds=index), "time": (start + timedelta(seconds=index)).isoformat(),
        "log": f"GET /orders/{first + index} 200\n", "stream": "stdout", "pod_name": f"api-{partition}",
        "pod_id": "0b7e", "container_name": "api", "host": "node-12", "labels": [("app", "api"), ("tier", "backend")],
        "container_id": "5f1c", "malformed": False, "raw": None} for index in range(count)],
        schema=layout.RECORD_SCHEMA)


def write(store: ArchiveStore, namespace: str, day: date, table: pa.Table) -> str:
    """Writes the table as the archived file its offsets name; its path in the store."""
    offsets = table.column("offset").to_pylist()
    key = layout.ArchivedFile(namespace, day, table.column("topic")[0].as_py(), table.column("partition")[0].as_py(),
                              min(offsets), max(offsets)).key
    path = store.path(key)
    store.filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
    pq.write_table(table, path, compression="zstd", filesystem=store.filesystem)
    return path


def live_grant(user, namespace: Namespace, *, ended: bool = False) -> Grant:
    """A grant of the user's principal on the namespace's topic (a topic row made if it has none): live since an
    hour ago for a day, or one that `ended` yesterday."""
    topic = namespace.topics.first() or topic_of(namespace)
    now = django_timezone.now()
    start, end = (now - timedelta(days=2), now - timedelta(days=1)) if ended else (now - timedelta(hours=1),
                                                                                   now + timedelta(days=1))
    return Grant.objects.create(principal=principal_for(user), topic=topic, valid_from=start, valid_until=end,
                                source=GrantSource.ADMIN)
