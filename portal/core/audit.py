"""Recording and verifying audit events. Every change in Logwarden calls `record` inside its transaction.

Secrets never enter the trail: values under keys that name a secret are replaced before hashing, and a
payload that is not JSON is refused rather than stringified.

Tamper evidence: each event's hash is an HMAC-SHA256 over its predecessor's hash and its own fields, keyed with
a key derived from settings.LOGWARDEN_AUDIT_KEY (sha256("logwarden-audit-chain:" + key)). The database refuses
updates and deletes, and someone who gets around that (a DBA dropping the trigger, or truncating the table and
writing a new history) still cannot produce hashes that verify without the key, which lives in the
application's environment, not in the database.

Rotating LOGWARDEN_AUDIT_KEY re-anchors the chain: the first event under the new key chains on from the hash of
the last one under the old key, and the old key moves to LOGWARDEN_AUDIT_RETIRED_KEYS (oldest first).
`verify_chain` then reads the trail as stretches, one per key: an event verifies under the key of the event before
it or a newer one, never an older one, so whoever still holds a retired key cannot append under it (docs/audit.md).
"""
from __future__ import annotations

import bisect
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Model
from django.utils import timezone

from portal.core import chain, locks
from portal.core.chain import BrokenLink
from portal.models import AuditEvent

GENESIS = chain.GENESIS
REDACTED = "[redacted]"
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|salt|credential|private", re.IGNORECASE)


@dataclass(frozen=True)
class Actor:
    """Who acted: a user, or the system itself (reconciler, discovery, scheduler)."""

    user: Any = None
    label: str = "system"

    @classmethod
    def of(cls, who: Any) -> Actor:
        """An Actor for a user (anonymous and None act as the system); an Actor is returned as it is."""
        if isinstance(who, Actor):
            return who
        if who is None or not getattr(who, "is_authenticated", False):
            return SYSTEM
        return cls(user=who, label=who.get_username())


SYSTEM = Actor()


def redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): REDACTED if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


_canonical = chain.canonical


def _chain_key(secret_key: str | None = None) -> hmac.HMAC:
    """The chain's HMAC for LOGWARDEN_AUDIT_KEY, read at each use."""
    return chain.chain_key(settings.LOGWARDEN_AUDIT_KEY if secret_key is None else secret_key)


def _event_hash(previous_hash: str, fields: Mapping[str, Any], key: hmac.HMAC | None = None) -> str:
    return chain.event_hash(previous_hash, fields, _chain_key() if key is None else key)


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {"occurred_at": event.occurred_at.isoformat(), "actor": event.actor_label, "action": event.action,
            "target_type": event.target_type, "target_id": event.target_id, "target_label": event.target_label,
            "data": event.data}


def record(actor: Actor | Any, action: str, target: Model | None = None, *, target_type: str = "",
           target_id: str = "", target_label: str = "", **data: Any) -> AuditEvent:
    """Appends one event. `actor` is an Actor or a user; `target` a model instance (or give type/id/label)."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)
    with transaction.atomic():
        (event,) = _chained(actor, [Entry(action, target_type, target_id, target_label, data)])
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class Entry:
    """One event of a batch written by `record_many`."""

    action: str
    target_type: str = ""
    target_id: str = ""
    target_label: str = ""
    data: Mapping[str, Any] | None = None


def record_many(actor: Actor | Any, entries: list[Entry]) -> int:
    """Appends events in order under one chain lock (a reconcile's many broker changes); returns how many.

    Large batches go through PostgreSQL's COPY: tens of thousands of events in well under a second.
    """
    if not entries:
        return 0
    with transaction.atomic():
        events = _chained(actor, entries)
        if connection.vendor == "postgresql" and len(events) > 50:
            _copy(events)
        else:
            AuditEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)


def _chained(actor: Actor | Any, entries: list[Entry]) -> list[AuditEvent]:
    """Builds the events, each hashed over its predecessor; takes the chain lock (inside a transaction)."""
    actor = Actor.of(actor)
    payloads = [redact(dict(entry.data or {})) for entry in entries]
    for payload in payloads:
        json.dumps(payload)  # refuses non-JSON payloads here, not later when the trail is read
    # serialises appends so each event's previous_hash is the one before it
    locks.hold_for_transaction(locks.LockSpace.AUDIT_CHAIN, 0)
    previous = AuditEvent.objects.order_by("-sequence").values_list("hash", flat=True).first() or GENESIS
    now, key = timezone.now(), _chain_key()
    events = []
    for entry, payload in zip(entries, payloads):
        event = AuditEvent(occurred_at=now, actor=actor.user, actor_label=actor.label, action=entry.action,
                           target_type=entry.target_type, target_id=entry.target_id,
                           target_label=entry.target_label[:300], data=payload, previous_hash=previous)
        event.hash = previous = _event_hash(previous, _hashed_fields(event), key)
        events.append(event)
    return events


_COPY_COLUMNS = ("occurred_at", "actor_id", "actor_label", "action", "target_type", "target_id", "target_label",
                 "data", "previous_hash", "hash")


def _copy(events: list[AuditEvent]) -> None:
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:
            for e in events:
                copy.write_row((e.occurred_at, e.actor_id, e.actor_label, e.action, e.target_type, e.target_id,
                                e.target_label, json.dumps(e.data), e.previous_hash, e.hash))


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken: tuple[BrokenLink, ...] = ()  # every event whose hash or link does not match, in sequence order
    head: tuple[int, str] | None = None  # (sequence, hash) of the last event checked

    @property
    def intact(self) -> bool:
        return not self.broken

    @property
    def first_broken(self) -> int | None:
        return self.broken[0].sequence if self.broken else None


# occurred_at as Python's isoformat() writes it in UTC: six digits of fraction, none when the microseconds are 0
_ISO_OCCURRED_AT = ("to_char(occurred_at AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', occurred_at) = "
                    "occurred_at THEN 'YYYY-MM-DD\"T\"HH24:MI:SS' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US' END) "
                    "|| '+00:00'")
_RANGE_ROWS = (f"SELECT sequence, {_ISO_OCCURRED_AT}, actor_label, action, target_type, target_id, target_label, "
               f"data::text, previous_hash, hash FROM portal_auditevent WHERE sequence > %s AND sequence <= %s "
               f"ORDER BY sequence")
PARALLEL_FROM = 200_000  # events: below this one process verifies (worker processes take a while to start)


def verify_chain(*, secret_key: str | None = None, after: int | None = None, until: int | None = None,
                 workers: int | None = None) -> ChainReport:
    """Checks every event's link and keyed hash and lists every break (chain.BrokenLink). By default the whole
    trail with the current LOGWARDEN_AUDIT_KEY; `secret_key`, `after` and `until` (sequences) verify the
    stretches of a re-anchored trail. On PostgreSQL the rows are read raw with COPY and, from PARALLEL_FROM
    events (or as `workers` says), checked in worker processes, one range of sequences each."""
    keys = chain_keys() if secret_key is None else [secret_key]
    events = AuditEvent.objects.all()
    previous = GENESIS
    if after is not None:
        anchor = events.filter(sequence__lte=after).order_by("-sequence").values_list("hash", flat=True).first()
        previous = anchor or GENESIS
        events = events.filter(sequence__gt=after)
    if until is not None:
        events = events.filter(sequence__lte=until)
    if connection.vendor != "postgresql":
        rows = ((e.sequence, e.occurred_at.isoformat(), e.actor_label, e.action, e.target_type, e.target_id,
                 e.target_label, json.dumps(e.data), e.previous_hash, e.hash)
                for e in events.order_by("sequence").iterator(chunk_size=2000))
        result = chain.verify_rows(rows, keys, previous)
        return _report(result.checked, result.broken, result.last)
    bounds = events.aggregate(low=Min("sequence"), high=Max("sequence"), count=Count("sequence"))
    if not bounds["count"]:
        return ChainReport(0)
    low, high = bounds["low"] - 1, bounds["high"]
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if bounds["count"] >= PARALLEL_FROM else 1
    if workers <= 1:
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({_RANGE_ROWS}) TO STDOUT",
                                                               (low, high)) as copy:
            copy.set_types(["int8"] + ["text"] * 9)
            result = chain.verify_rows(copy.rows(), keys, previous)
        return _report(result.checked, result.broken, result.last)
    return _verify_in_workers(low, high, workers, keys, previous)


def chain_keys() -> list[str]:
    """The chain's keys, oldest first: the retired ones (LOGWARDEN_AUDIT_RETIRED_KEYS), then the current one."""
    return [*settings.LOGWARDEN_AUDIT_RETIRED_KEYS, settings.LOGWARDEN_AUDIT_KEY]


def _report(checked: int, broken: list[BrokenLink], last: tuple | None) -> ChainReport:
    return ChainReport(checked, tuple(sorted(broken, key=lambda b: (b.sequence, b.kind))), last and last[:2])


def _verify_in_workers(low: int, high: int, workers: int, keys: list[str], previous: str) -> ChainReport:
    """Splits (low, high] into ranges of sequences, checks them in worker processes, then the seams between
    them: each range's first link against the last hash of the range before it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    db = connection.settings_dict
    connect = {"host": db["HOST"], "port": db["PORT"] or None, "dbname": db["NAME"], "user": db["USER"],
               "password": db["PASSWORD"]}
    step = -(-(high - low) // (workers * 4))  # a few ranges per worker evens out their speeds
    edges = list(range(low, high, step)) + [high]
    # spawned, not forked: the parent may be a threaded server or worker; the child imports portal.core.chain only
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(chain.verify_range, [connect] * (len(edges) - 1), [_RANGE_ROWS] * (len(edges) - 1),
                                list(zip(edges, edges[1:])), [keys] * (len(edges) - 1)))
    broken, checked, last = [], 0, (None, previous, 0)
    for result in results:
        if result.first is None:
            continue
        if result.first[1] != last[1]:
            broken.append(chain.BrokenLink(result.first[0], chain.LINK))
        if result.first[2] < last[2]:  # a range that starts under a key retired before the last one's
            broken.append(chain.BrokenLink(result.first[0], chain.HASH))
        broken += result.broken
        checked, last = checked + result.checked, result.last
    return _report(checked, broken, last)


@dataclass(frozen=True)
class Head:
    """The trail's last event and how many there are: what a checkpoint signs."""

    sequence: int
    hash: str
    count: int


def head() -> Head:
    """The head of the trail now (sequence 0 and GENESIS while it is empty)."""
    # one statement, one snapshot: appends commit in sequence order (the chain lock), so the count is of the
    # events up to that sequence
    bounds = AuditEvent.objects.aggregate(last=Max("sequence"), count=Count("sequence"))
    if not bounds["count"]:
        return Head(0, GENESIS, 0)
    return Head(bounds["last"], AuditEvent.objects.values_list("hash", flat=True).get(sequence=bounds["last"]),
                bounds["count"])


def hashes_at(sequences: list[int]) -> dict[int, str]:
    """The stored hash of each of the events with these sequences that exist."""
    return dict(AuditEvent.objects.filter(sequence__in=sequences).values_list("sequence", "hash"))


def counts_up_to(sequences: list[int]) -> dict[int, int]:
    """For each sequence, how many events have that sequence or a lower one, in one pass over the trail."""
    if not sequences:
        return {}
    ordered = sorted(set(sequences))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # bucket i holds the events after the i-th sequence and up to the (i+1)-th
            cursor.execute("SELECT width_bucket(sequence, %s::bigint[]), count(*) FROM portal_auditevent "
                           "GROUP BY 1", [[s + 1 for s in ordered]])
            per_bucket = dict(cursor.fetchall())
    else:
        per_bucket = {}
        for sequence in AuditEvent.objects.values_list("sequence", flat=True).iterator():
            bucket = bisect.bisect_right(ordered, sequence - 1)
            per_bucket[bucket] = per_bucket.get(bucket, 0) + 1
    counts, running = {}, 0
    for index, sequence in enumerate(ordered):
        running += per_bucket.get(index, 0)
        counts[sequence] = running
    return counts
