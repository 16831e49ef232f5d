"""Searching a namespace's archived days from the logs view: the same filters, pages and cursors as a live read
(topics.logs.paging walks the archive's partitions by offset as it walks the topic's), over the files
topics.archive.dataset lists for the days of the filter's time range, through the same dataset the SQL query
reads (so it is cut at how far back the grant reads). The filters a Parquet column answers (time, pod, container,
stream, text) are pushed down into the scan as pyarrow expressions; the live matcher then checks every record
again and adds labels and the pattern, in Python within the request's budget.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from portal.core.limits import excerpt
from topics.archive import layout
from topics.archive.dataset import LOGS_SCHEMA, Scope, archived_keys, logs_dataset
from topics.archive.store import ArchiveStore
from topics.logs.paging import Fetch
from topics.logs.records import Budget, LogFilter, LogRecord, SearchBudgetSpent, from_archived

LIVE, ARCHIVE = "live", "archive"
SOURCES = (LIVE, ARCHIVE)
CHUNK = 10_000  # offsets read from a partition's files at a time: one scan, pruned by the pushed-down filters


class ArchiveUnreadable(Exception):
    """The archive's store could not be listed or read (a bucket unreachable)."""


def _day(ms: int | None) -> date | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).date()


def _moment(ms: int) -> pa.Scalar:
    return pa.scalar(ms, type=pa.int64()).cast(LOGS_SCHEMA.field("timestamp").type)


def pushed_down(log_filter: LogFilter) -> ds.Expression:
    """The filter's conditions as a pyarrow expression on the archive's columns (a null column, as a malformed
    record's metadata is, matches no condition on it, as the matcher says too)."""
    condition = ds.scalar(True)
    if log_filter.since_ms is not None:
        condition &= ds.field("timestamp") >= _moment(log_filter.since_ms)
    if log_filter.until_ms is not None:
        condition &= ds.field("timestamp") < _moment(log_filter.until_ms)
    if log_filter.pod:
        condition &= pc.match_substring(ds.field("pod_name"), log_filter.pod)
    if log_filter.container:
        condition &= ds.field("container_name") == log_filter.container
    if log_filter.stream:
        condition &= ds.field("stream") == log_filter.stream
    if log_filter.text:
        searched = pc.if_else(ds.field("malformed"), ds.field("raw"), ds.field("log"))
        condition &= pc.match_substring(searched, log_filter.text, ignore_case=True)
    return condition


class ArchiveSearch:
    """The archived files of one topic of a namespace within the filter's days, as paging lanes (partition →
    [first, last + 1) offsets of its files) and a fetch that reads an offset range of a lane from the files that
    hold it, remembering which files it read (for the audit event)."""

    def __init__(self, store: ArchiveStore, namespace: str, topic: str, log_filter: LogFilter,
                 readable_since: datetime | None):
        until = None if log_filter.until_ms is None else log_filter.until_ms - 1
        self.store, self.log_filter = store, log_filter
        self.scope = Scope((namespace,), _day(log_filter.since_ms), _day(until),
                           () if readable_since is None else ((namespace, readable_since),))
        try:
            keys = archived_keys(store, self.scope)
        except OSError as exc:
            raise ArchiveUnreadable(f"The archive cannot be listed right now ({excerpt(exc, 200)}).") from None
        self.files = [file for file in map(layout.parse, keys) if file.topic == topic]
        self.read: set[str] = set()

    def windows(self) -> dict[int, tuple[int, int]]:
        lanes: dict[int, tuple[int, int]] = {}
        for file in self.files:
            low, high = lanes.get(file.partition, (file.first_offset, file.last_offset + 1))
            lanes[file.partition] = (min(low, file.first_offset), max(high, file.last_offset + 1))
        return lanes

    def fetcher(self, budget: Budget) -> Fetch:
        condition = pushed_down(self.log_filter)

        def fetch(partition: int, start: int, end: int) -> list[LogRecord]:
            keys = [file.key for file in self.files
                    if file.partition == partition and file.first_offset < end and file.last_offset >= start]
            if not keys:
                return []
            self.read.update(keys)
            wanted = condition & (ds.field("partition") == partition) & (ds.field("offset") >= start) & (
                ds.field("offset") < end)
            try:
                table = logs_dataset(self.store, keys, self.scope.since).to_table(filter=wanted)
            except OSError as exc:
                raise ArchiveUnreadable(f"The archive cannot be read right now ({excerpt(exc, 200)}).") from None
            if budget.spent():  # possibly cut short: the cursor reads it again
                raise SearchBudgetSpent
            return sorted(map(from_archived, table.to_pylist()), key=lambda record: record.offset)

        return fetch
