"""Recording and verifying audit events. Every change in Logwarden calls `record` inside its transaction.

Secrets never enter the trail: values under keys that name a secret are replaced before hashing, and a
payload that is not JSON is refused rather than stringified.

Tamper evidence: each event's hash is an HMAC-SHA256 over its predecessor's hash and its own fields, keyed with
a key derived from settings.LOGWARDEN_AUDIT_KEY (sha256("logwarden-audit-chain:" + key)). The database refuses
updates and deletes, and someone who gets around that (a DBA dropping the trigger, or truncating the table and
writing a new history) still cannot produce hashes that verify without the key, which lives in the
application's environment, not in the database.

Rotating LOGWARDEN_AUDIT_KEY needs re-anchoring: events written before the rotation verify only with the old
key. Before rotating, run `verify_chain(secret_key=<old key>)` and keep that report with the sequence and hash of
the last event (the anchor); after rotating, new events chain on from that hash under the new key, so
`verify_chain(secret_key=<old key>, until=<anchor sequence>)` and `verify_chain(after=<anchor sequence>)` together
prove the whole trail.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from portal.core import locks
from portal.models import AuditEvent

GENESIS = "0" * 64
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


def _canonical(fields: Mapping[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _chain_key(secret_key: str | None = None) -> hmac.HMAC:
    """The chain's HMAC, keyed once (copied per event): the key is derived from LOGWARDEN_AUDIT_KEY, never that
    setting itself, and read at each use."""
    secret_key = settings.LOGWARDEN_AUDIT_KEY if secret_key is None else secret_key
    key = hashlib.sha256(f"logwarden-audit-chain:{secret_key}".encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _event_hash(previous_hash: str, fields: Mapping[str, Any], key: hmac.HMAC | None = None) -> str:
    mac = (_chain_key() if key is None else key).copy()
    mac.update((previous_hash + _canonical(fields)).encode())
    return mac.hexdigest()


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
    first_broken: int | None  # sequence of the first event whose hash or link does not match

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def verify_chain(*, secret_key: str | None = None, after: int | None = None,
                 until: int | None = None) -> ChainReport:
    """Checks every event's link and keyed hash, in order. By default the whole trail with the current
    LOGWARDEN_AUDIT_KEY; `secret_key`, `after` and `until` (sequences) verify the stretches of a re-anchored trail."""
    key, previous, checked = _chain_key(secret_key), GENESIS, 0
    events = AuditEvent.objects.order_by("sequence")
    if after is not None:
        anchor = AuditEvent.objects.filter(sequence__lte=after).order_by("-sequence").first()
        previous = anchor.hash if anchor is not None else GENESIS
        events = events.filter(sequence__gt=after)
    if until is not None:
        events = events.filter(sequence__lte=until)
    for event in events.iterator(chunk_size=2000):
        if event.previous_hash != previous or event.hash != _event_hash(previous, _hashed_fields(event), key):
            return ChainReport(checked, event.sequence)
        previous, checked = event.hash, checked + 1
    return ChainReport(checked, None)
