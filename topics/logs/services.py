"""Reading a namespace's logs: one page, an NDJSON download, a live follow. Each asks topics.policy for the
caller's live grant first (no grant: PermissionDenied, and nothing is read), reads as the portal's reader
principal (topics.logs.reader) — or, for a page with `origin` archive, the archived days (topics.logs.archived)
through the same paging — never before what the grant may read (the sensitivity policy's `read_from`), and is
one audit event `logs.read` (who, namespace, filter, time window, offsets range, records); a follow is one
event per minute it runs.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from portal.core import audit
from topics import policy
from topics.archive.store import default_store
from topics.history import services as history
from topics.kafka.adapter import LogReader
from topics.logs import archived, reader
from topics.kafka.types import ConsumedRecord
from topics.logs.paging import CHUNK, Cursor, Fetch, Page, newest_first, walk
from topics.logs.records import Budget, LogFilter, LogRecord, SearchBudgetSpent, as_line, parse
from topics.models import Grant, KafkaPrincipal, Namespace, ReadChannel, Topic

FOLLOW_POLL_SECONDS = 1.0
FOLLOW_FETCH_WAIT_MS = 250  # the broker holds a follow's fetch this long when nothing new has come
FOLLOW_BATCH = 200  # records taken from the broker per poll: with the reader's bounded queue, a stream's memory
FOLLOW_AUDIT_SECONDS = 60
HEARTBEAT_SECONDS = 15
DOWNLOAD_STEP = 5000  # records per step (one chunk of the response) of a download
# records read from a partition at a time by a download (a page reads paging.CHUNK): each read re-assigns the
# partition, so fewer is slower; a download holds up to one chunk per partition
DOWNLOAD_CHUNK = 10_000
DOWNLOAD_FETCH_BYTES = 4 << 20  # a fetch brings about a chunk (records of the brief's shape are ~400 bytes)


@dataclass(frozen=True)
class Source:
    """What the caller reads: the namespace's topic they hold a live grant on, and their filter bounded by how
    far back that grant may read."""

    who: object
    principal: KafkaPrincipal  # whose grant it is: the caller's own principal
    namespace: Namespace
    topic: Topic
    log_filter: LogFilter
    readable_since: datetime | None  # how far back the grant reads (None: the topic's start)

    def reader(self, **options) -> LogReader:
        return LogReader(reader.connection(self.topic.cluster), self.topic.name,
                         timeout=settings.KAFKA["timeout_seconds"], **options)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def source(who, namespace: Namespace, log_filter: LogFilter) -> Source:
    grants: list[Grant] = list(policy.live_read_grants(who, namespace).select_related("principal"))
    if not grants:
        raise PermissionDenied(f"You hold no running grant on namespace {namespace.name}: request access first.")
    topic = grants[0].topic
    since = policy.logs_readable_since(namespace, [grant for grant in grants if grant.topic_id == topic.pk])
    return Source(who, grants[0].principal, namespace, topic,
                  log_filter.with_lower_bound(None if since is None else _ms(since)), since)


def _windows(kafka: LogReader, log_filter: LogFilter) -> dict[int, tuple[int, int]]:
    """partition → [low, high) offsets of the filter's time range, looked up by time on the broker."""
    partitions = kafka.partitions()
    bounds = kafka.bounds(partitions)
    low = {p: first for p, (first, _) in bounds.items()}
    high = {p: end for p, (_, end) in bounds.items()}
    if log_filter.since_ms is not None:
        for p, at in kafka.offsets_at(log_filter.since_ms, partitions).items():
            low[p] = high[p] if at is None else max(at, low[p])
    if log_filter.until_ms is not None:
        for p, at in kafka.offsets_at(log_filter.until_ms, partitions).items():
            high[p] = high[p] if at is None else at
    return {p: (low[p], max(low[p], high[p])) for p in partitions}


def _fetcher(kafka: LogReader, budget: Budget) -> Fetch:
    def fetch(partition: int, start: int, end: int) -> list[LogRecord]:
        consumed = kafka.read(partition, start, end, deadline=budget.deadline)
        if budget.spent():  # possibly cut short: the cursor reads it again
            raise SearchBudgetSpent
        return [parse(record) for record in consumed]
    return fetch


def _page(windows: dict[int, tuple[int, int]], fetcher: Callable[[Budget], Fetch], log_filter: LogFilter, *,
          limit: int, cursor: Cursor | None, chunk: int) -> Page:
    budget = Budget.of(settings.LOGWARDEN_LOGS_SEARCH_SECONDS)
    return walk(windows, fetcher(budget), log_filter.matcher(budget), limit=limit, cursor=cursor, budget=budget,
                chunk=chunk)


def _record_read(src: Source, mode: str, records: int, offsets: dict[int, list[int]], *,
                 origin: str = archived.LIVE, **extra) -> None:
    """The read's audit event (naming the reader's principal, for topics.history.replay) and the principal's last
    portal read of the topic (the stale-access report)."""
    with transaction.atomic():
        event = audit.record(
            src.who, "logs.read", src.namespace, mode=mode, source=origin, topic=src.topic.name,
            cluster=src.topic.cluster.name, principal=src.principal.name, filter=src.log_filter.described(),
            window={"since": _iso(src.log_filter.since_ms), "until": _iso(src.log_filter.until_ms)},
            offsets={str(p): span for p, span in sorted(offsets.items())}, records=records, **extra)
        history.note_read(src.principal, src.topic, ReadChannel.PORTAL, event.occurred_at)


def _widen(spans: dict[int, list[int]], partition: int, offset: int) -> None:
    """Widens the partition's [first, last] offsets read (the audit event's offsets range) to take `offset` in."""
    span = spans.get(partition)
    if span is None:
        spans[partition] = [offset, offset]
    elif offset < span[0]:
        span[0] = offset
    elif offset > span[1]:
        span[1] = offset


@dataclass(frozen=True)
class PageRead:
    page: Page
    readable_since: datetime | None


def read_page(who, namespace: Namespace, log_filter: LogFilter, *, cursor: Cursor | None = None,
              page_size: int, origin: str = archived.LIVE) -> PageRead:
    """One page, newest first (or the page just newer than a `newer` cursor), from the topic (`origin` live) or
    its archived days (`origin` archive, with the files read in the audit event); audited."""
    src = source(who, namespace, log_filter)
    if origin == archived.ARCHIVE:
        search = archived.ArchiveSearch(default_store(), namespace.name, src.topic.name, src.log_filter,
                                        src.readable_since)
        page = _page(search.windows(), search.fetcher, src.log_filter, limit=page_size, cursor=cursor,
                     chunk=archived.CHUNK)
        read = {"files": sorted(search.read)}
    else:
        with src.reader() as kafka:
            page = _page(_windows(kafka, src.log_filter), partial(_fetcher, kafka), src.log_filter, limit=page_size,
                         cursor=cursor, chunk=CHUNK)
        read = {}
    _record_read(src, "page", len(page.records), page.offsets, origin=origin, scanned=page.scanned,
                 budget_spent=page.budget_spent, **read)
    return PageRead(page, src.readable_since)


class Stream:
    """A response body produced step by step (each step is a little blocking work and returns its chunks), so
    the same stream serves a WSGI worker (a plain iterator) and an ASGI server (each step off the event loop)."""

    ended = False

    def step(self) -> list[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __iter__(self) -> Iterator[bytes]:
        try:
            while not self.ended:
                yield from self.step()
        finally:
            self.close()

    async def asynchronously(self) -> AsyncIterator[bytes]:
        """The same chunks for an ASGI server: each step runs in the request's worker thread, off the loop (so a
        disconnect cancels the stream between steps, and it is closed)."""
        step, close = sync_to_async(self.step), sync_to_async(self.close)
        try:
            while not self.ended:
                for chunk in await step():
                    yield chunk
        finally:
            await close()


class Download(Stream):
    """The current filter as NDJSON, newest first, at most LOGWARDEN_LOGS_MAX_DOWNLOAD records, of the topic (or,
    `origin` archive, of its archived days, searched as a page searches them): one merge of the partitions
    (topics.logs.paging.newest_first) read backwards DOWNLOAD_CHUNK records at a time, a few
    thousand lines per step (`records.as_line`: a shipper record passes through as it came), each step within the
    search budget (a step that spends it ends the download there, flagged in the audit event). A filter of time
    alone parses nothing to match. The grant is checked again as a follow checks it: ended, the download stops.
    Audited once, when it ends (however it ends)."""

    def __init__(self, who, namespace: Namespace, log_filter: LogFilter, *, limit: int | None = None,
                 origin: str = archived.LIVE):
        self.src, self.origin = source(who, namespace, log_filter), origin
        self.left = min(limit or settings.LOGWARDEN_LOGS_MAX_DOWNLOAD, settings.LOGWARDEN_LOGS_MAX_DOWNLOAD)
        self.budget = Budget.of(settings.LOGWARDEN_LOGS_SEARCH_SECONDS)
        self.kafka: LogReader | None = None
        self.search: archived.ArchiveSearch | None = None
        if origin == archived.ARCHIVE:  # the archived days, through the archive search's lanes and reads
            self.search = archived.ArchiveSearch(default_store(), namespace.name, self.src.topic.name,
                                                 self.src.log_filter, self.src.readable_since)
            fetch, matches = self.search.fetcher(self.budget), self.src.log_filter.matcher(self.budget)
            windows, chunk, self.line = self.search.windows(), archived.CHUNK, _archived_line

            def read(partition: int, start: int, end: int) -> list[LogRecord]:
                return [record for record in fetch(partition, start, end) if matches(record)]
        else:
            self.kafka = self.src.reader(fetch_bytes=DOWNLOAD_FETCH_BYTES)
            self.keeps = self.src.log_filter.consumed_matcher(self.budget)
            windows, read, chunk = _windows(self.kafka, self.src.log_filter), self._read, DOWNLOAD_CHUNK
            self.line = as_line
        self.records = newest_first(windows, read, chunk=chunk)
        self.grant = GrantWatch(self.src)
        self.open, self.count, self.offsets, self.budget_spent, self.grant_ended = True, 0, {}, False, False

    def _read(self, partition: int, start: int, end: int) -> list[ConsumedRecord]:
        consumed = self.kafka.read(partition, start, end, deadline=self.budget.deadline)
        if self.budget.spent():  # possibly cut short
            raise SearchBudgetSpent
        keeps = self.keeps
        return [record for record in consumed if keeps(record)]

    def step(self) -> list[bytes]:
        if not self.grant.holds():
            self.grant_ended = self.ended = True
            return []
        self.budget.renew(settings.LOGWARDEN_LOGS_SEARCH_SECONDS)
        wanted = min(DOWNLOAD_STEP, self.left)
        lines, offsets = [], self.offsets
        try:
            line = self.line
            for record in itertools.islice(self.records, wanted):
                lines.append(line(record))
                _widen(offsets, record.partition, record.offset)
        except SearchBudgetSpent:
            self.budget_spent = self.ended = True
        self.count += len(lines)
        self.left -= len(lines)
        self.ended = self.ended or len(lines) < wanted or self.left <= 0
        return [b"\n".join(lines) + b"\n"] if lines else []

    def close(self) -> None:
        if not self.open:
            return
        self.open = False
        if self.kafka is not None:
            self.kafka.close()
        read = {"files": sorted(self.search.read)} if self.search is not None else {}
        _record_read(self.src, "download", self.count, self.offsets, origin=self.origin,
                     budget_spent=self.budget_spent, **({"grant_ended": True} if self.grant_ended else {}), **read)


def _archived_line(record: LogRecord) -> bytes:
    return orjson.dumps(record.as_json())


class GrantWatch:
    """Whether the caller still holds a live grant on the source's topic, asked at most every
    LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS while a stream runs."""

    def __init__(self, src: Source):
        self.src, self.granted = src, True
        self.next_check = time.monotonic() + settings.LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS

    def holds(self) -> bool:
        now = time.monotonic()
        if self.granted and now >= self.next_check:
            self.next_check = now + settings.LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS
            self.granted = policy.live_read_grants(self.src.who, self.src.namespace).filter(
                topic=self.src.topic).exists()
        return self.granted


class Follow(Stream):
    """Server-sent events of the records that arrive from now on and match the filter. The grant is checked again
    every LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS: once it is revoked or expired the stream says so and ends. A
    comment line keeps idle connections open; one audit event per minute carries what was sent."""

    def __init__(self, who, namespace: Namespace, log_filter: LogFilter):
        self.src = source(who, namespace, log_filter)
        self.kafka = self.src.reader(fetch_wait_ms=FOLLOW_FETCH_WAIT_MS)
        partitions = self.kafka.partitions()
        self.kafka.assign({p: end for p, (_, end) in self.kafka.bounds(partitions).items()})
        self.grant = GrantWatch(self.src)
        now = time.monotonic()
        self.next_audit, self.last_sent = now + FOLLOW_AUDIT_SECONDS, now
        self.count, self.offsets, self.audited = 0, {}, False

    def step(self) -> list[bytes]:
        if not self.grant.holds():
            self.ended = True
            return [b'event: end\ndata: {"reason": "the grant has ended"}\n\n']
        keeps = self.src.log_filter.consumed_matcher(Budget.of(settings.LOGWARDEN_LOGS_SEARCH_SECONDS))
        chunks = []
        for consumed in self.kafka.poll(FOLLOW_POLL_SECONDS, FOLLOW_BATCH):
            try:
                if not keeps(consumed):
                    continue
            except SearchBudgetSpent:
                chunks.append(b'event: skipped\ndata: {"reason": "the pattern took too long on a record"}\n\n')
                continue
            chunks.append(b"event: record\ndata: " + as_line(consumed) + b"\n\n")
            self.count += 1
            _widen(self.offsets, consumed.partition, consumed.offset)
        now = time.monotonic()
        if chunks:
            self.last_sent = now
        elif now - self.last_sent >= HEARTBEAT_SECONDS:
            self.last_sent = now
            chunks.append(b": heartbeat\n\n")
        if now >= self.next_audit:
            self._audit()
            self.next_audit = now + FOLLOW_AUDIT_SECONDS
        return chunks

    def _audit(self) -> None:
        _record_read(self.src, "follow", self.count, self.offsets)
        self.count, self.offsets, self.audited = 0, {}, True

    def close(self) -> None:
        if self.kafka is not None:
            self.kafka.close()
            self.kafka = None
            if self.count or not self.audited:
                self._audit()
