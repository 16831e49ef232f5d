"""Checkpointing the audit trail and verifying it against its checkpoints.

The chain alone finds a rewritten or removed event in the middle; it cannot see the last events removed, the
whole trail truncated, or the trail rewritten by someone holding the chain's key. The checkpoints can: each
names an event (sequence, hash) and how many events there were up to it, signed with a key the database never
sees, in a store outside it. A checkpoint whose sequence lies beyond the head, whose event is gone or has
another hash, or whose count differs, is a finding; so is any checkpoint that cannot be read or verified.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.notifications import notify_role
from portal.core import audit, exports
from portal.models import AuditVerification
from topics.archive.store import ArchiveStore, checkpoint_store
from topics.audit import checkpoints
from topics.audit.checkpoints import Checkpoint, CheckpointError

log = logging.getLogger(__name__)
PREFIX = "checkpoints/"
BEYOND_HEAD = "beyond the head"  # the trail ends before the checkpointed event: its tail was removed
MISSING = "event missing"
HASH_MISMATCH = "hash mismatch"
COUNT_MISMATCH = "count mismatch"
UNREADABLE = "unreadable"


def write_checkpoint(store: ArchiveStore | None = None) -> Checkpoint:
    """Signs the head as it is now and stores it under a key of its own (never over another)."""
    store = store or checkpoint_store()
    now = timezone.now()
    checkpoint = checkpoints.sign(audit.head(), now)
    days = settings.LOGWARDEN_CHECKPOINT_RETENTION_DAYS
    store.create(checkpoint.store_key, checkpoint.to_bytes(),
                 retain_until=now + timedelta(days=days) if days and store.on_s3 else None)
    return checkpoint


@dataclass(frozen=True)
class StoredCheckpoint:
    key: str
    checkpoint: Checkpoint | None
    error: str = ""


def _read(store: ArchiveStore, key: str, keys: dict) -> StoredCheckpoint:
    try:
        checkpoint = Checkpoint.from_bytes(store.read(key))
        checkpoints.verify_signature(checkpoint, keys)
    except (CheckpointError, OSError) as exc:
        return StoredCheckpoint(key, None, str(exc))
    return StoredCheckpoint(key, checkpoint)


def stored_checkpoints(store: ArchiveStore | None = None, *, newest: int | None = None) -> list[StoredCheckpoint]:
    """Every checkpoint in the store (or only the `newest` ones), oldest first, each signature checked against the
    known public keys."""
    store = store or checkpoint_store()
    keys, listed = checkpoints.known_public_keys(), store.list(PREFIX)
    return [_read(store, stored.key, keys) for stored in (listed[-newest:] if newest else listed)]


def checkpoint_count(store: ArchiveStore | None = None) -> int:
    return len((store or checkpoint_store()).list(PREFIX))


def latest_checkpoint(store: ArchiveStore | None = None) -> Checkpoint:
    """The newest checkpoint that verifies (read newest first, one at a time); one is written when there is none
    yet."""
    store = store or checkpoint_store()
    keys = checkpoints.known_public_keys()
    for stored in reversed(store.list(PREFIX)):
        found = _read(store, stored.key, keys)
        if found.checkpoint is not None:
            return found.checkpoint
    return write_checkpoint(store)


EXPORT_COLUMNS = ("sequence", "occurred_at", "actor_label", "action", "target_type", "target_id", "target_label",
                  "data", "previous_hash", "hash")
EXPORT_ROWS = 100_000


def events_table(events: QuerySet, parameters: dict) -> exports.Table:
    """The events (as filtered, newest first, at most EXPORT_ROWS) as a table to export, with the filter that
    chose them."""
    return exports.Table(title="Audit trail", columns=EXPORT_COLUMNS,
                         rows=list(events.values_list(*EXPORT_COLUMNS)[:EXPORT_ROWS]),
                         parameters={name: value for name, value in parameters.items() if value not in (None, "")})


def checkpoint_problems(found: list[StoredCheckpoint], head: audit.Head) -> list[dict]:
    """What the trail disagrees with, checkpoint by checkpoint."""
    readable = [s for s in found if s.checkpoint is not None]
    sequences = [s.checkpoint.sequence for s in readable if 0 < s.checkpoint.sequence <= head.sequence]
    hashes, counts = audit.hashes_at(sequences), audit.counts_up_to(sequences)
    problems = [{"key": s.key, "sequence": None, "problem": f"{UNREADABLE}: {s.error}"} for s in found
                if s.checkpoint is None]
    for stored in readable:
        checkpoint, problem = stored.checkpoint, None
        if checkpoint.sequence > head.sequence:
            problem = BEYOND_HEAD
        elif checkpoint.sequence == 0:
            problem = None  # signed while the trail was empty
        elif checkpoint.sequence not in hashes:
            problem = MISSING
        elif hashes[checkpoint.sequence] != checkpoint.hash:
            problem = HASH_MISMATCH
        elif counts[checkpoint.sequence] != checkpoint.count:
            problem = COUNT_MISMATCH
        if problem:
            problems.append({"key": stored.key, "sequence": checkpoint.sequence, "problem": problem})
    return sorted(problems, key=lambda p: p["key"])


def verify_trail(*, trigger: str, store: ArchiveStore | None = None) -> AuditVerification:
    """Verifies the chain (every broken link) and the trail against every checkpoint, and records the result.
    A failure is an audit event and an alert to the auditors (once per distinct set of findings)."""
    started_at = timezone.now()
    # the checkpoints first: each signed a head committed before it was stored, so none read now can be beyond
    # the head read next unless events were removed (a checkpoint written meanwhile is not read this time)
    found = stored_checkpoints(store)
    head = audit.head()
    report = audit.verify_chain()
    verification = AuditVerification(
        started_at=started_at, finished_at=timezone.now(), trigger=trigger, events_checked=report.checked,
        head_sequence=head.sequence, checkpoints_checked=len(found),
        broken_links=[b.as_dict() for b in report.broken], checkpoint_problems=checkpoint_problems(found, head))
    previous = AuditVerification.objects.order_by("-started_at").first()
    with transaction.atomic():
        verification.save()
        if not verification.intact:
            audit.record(audit.SYSTEM, "audit.verify_failed", verification, trigger=trigger,
                         broken_links=verification.broken_links[:100],
                         checkpoint_problems=verification.checkpoint_problems[:100],
                         broken_link_count=len(verification.broken_links),
                         checkpoint_problem_count=len(verification.checkpoint_problems))
    if not verification.intact and not _same_findings(previous, verification):
        _alert_auditors(verification)
    return verification


def _same_findings(previous: AuditVerification | None, current: AuditVerification) -> bool:
    return previous is not None and (previous.broken_links, previous.checkpoint_problems) == (
        current.broken_links, current.checkpoint_problems)


def _alert_auditors(verification: AuditVerification) -> None:
    body = (f"The audit trail failed verification at {verification.started_at:%Y-%m-%d %H:%M:%S} UTC: "
            f"{len(verification.broken_links)} broken link(s), {len(verification.checkpoint_problems)} checkpoint "
            f"mismatch(es). Run `manage.py audit verify` for the full list.")
    notify_role(Role.AUDITOR, "Audit trail verification failed", body, link=reverse("audit-verification"))


def checkpoint_and_verify() -> AuditVerification:
    """The periodic pass: verify against the checkpoints there are, then checkpoint the head (also when no event
    happened), so a tail removed or a trail rewritten since the last pass is found within one interval."""
    verification = verify_trail(trigger="schedule")
    try:
        write_checkpoint()
    except OSError:  # FileExistsError included: the next pass writes the next one
        log.exception("could not write the audit trail's checkpoint")
    return verification
