"""Checkpoints of the trail against the real PostgreSQL (as the runtime role) and stores (a directory, MinIO):
a tail removed, the trail truncated or rewritten with the chain's key is found against them within one
interval, which the chain alone cannot see; every finding is listed, audited and sent to the auditors."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Notification
from portal.core import audit
from portal.core.health import check_audit_trail
from portal.models import AuditEvent
from topics.archive.store import checkpoint_store
from topics.audit import checkpoints, services
from tests.helpers import require_env, tamper_as_owner


@pytest.fixture
def store(tmp_path, settings):
    settings.LOGWARDEN_CHECKPOINT_STORE = str(tmp_path / "checkpoints")
    return checkpoint_store()


def _trail(n: int) -> list[AuditEvent]:
    return [audit.record(audit.SYSTEM, "thing.change", target_type="t", target_id=str(i), i=i) for i in range(n)]


def test_a_checkpoint_is_signed_and_any_change_to_it_is_refused():
    key = Ed25519PrivateKey.generate()
    checkpoint = checkpoints.sign(audit.Head(7, "ab" * 32, 5), datetime(2026, 12, 1, tzinfo=timezone.utc), key)
    keys = {checkpoints.fingerprint(key.public_key()): key.public_key()}
    checkpoints.verify_signature(checkpoints.Checkpoint.from_bytes(checkpoint.to_bytes()), keys)
    forged = checkpoints.Checkpoint(**{**checkpoint.document(), "count": 6})
    with pytest.raises(checkpoints.CheckpointError, match="does not verify"):
        checkpoints.verify_signature(forged, keys)
    with pytest.raises(checkpoints.CheckpointError, match="unknown key"):
        checkpoints.verify_signature(checkpoint, {})


@pytest.mark.django_db(transaction=True)
def test_an_intact_trail_verifies_against_its_checkpoints(store):
    _trail(3)
    services.write_checkpoint()
    _trail(2)
    services.write_checkpoint()

    verification = services.verify_trail(trigger="command")
    assert verification.intact and verification.checkpoints_checked == 2 and verification.events_checked == 5
    assert check_audit_trail().state == "ok"
    with pytest.raises(FileExistsError):  # a checkpoint is never written over
        store.create(store.list("checkpoints/")[0].key, b"{}")


@pytest.mark.django_db(transaction=True)
def test_the_last_events_removed_are_found_against_the_checkpoint(store, world):
    events = _trail(5)
    services.write_checkpoint()
    tamper_as_owner(("DELETE FROM portal_auditevent WHERE sequence >= %s", [events[3].sequence]))

    assert audit.verify_chain().intact  # the chain alone sees nothing
    verification = services.verify_trail(trigger="schedule")
    assert [p["problem"] for p in verification.checkpoint_problems] == [services.BEYOND_HEAD]
    failed = AuditEvent.objects.filter(action="audit.verify_failed").get()
    assert failed.data["checkpoint_problem_count"] == 1
    alert = Notification.objects.get(recipient=world.auditor)
    assert "failed verification" in alert.body
    assert check_audit_trail().state == "degraded"
    # the failure's own event now follows the removed ones: the checkpointed event is missing from the middle
    again = services.verify_trail(trigger="schedule")
    assert [p["problem"] for p in again.checkpoint_problems] == [services.MISSING]
    services.verify_trail(trigger="schedule")  # the same findings as the last time: no new alert
    assert Notification.objects.filter(recipient=world.auditor).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_truncated_trail_is_found_against_the_checkpoint(store):
    _trail(4)
    services.write_checkpoint()
    tamper_as_owner(("TRUNCATE portal_auditevent", []))

    assert audit.verify_chain().intact and audit.verify_chain().checked == 0
    problems = services.verify_trail(trigger="command").checkpoint_problems
    assert [p["problem"] for p in problems] == [services.BEYOND_HEAD]


@pytest.mark.django_db(transaction=True)
def test_a_trail_rewritten_with_the_chain_key_is_found_against_the_checkpoints(store):
    """Whoever holds the chain's key truncates the trail and writes a new history of as many events: the chain
    verifies, the checkpoint's event now has another hash (and the count after it differs too)."""
    genuine = _trail(3)
    first = services.write_checkpoint()
    _trail(1)
    tamper_as_owner(("TRUNCATE portal_auditevent", []),
            ("SELECT setval(pg_get_serial_sequence('portal_auditevent', 'sequence'), %s, false)",
             [genuine[0].sequence]))
    forged = [audit.record(audit.SYSTEM, "thing.change", target_type="t", target_id="forged", i=i) for i in range(4)]

    assert audit.verify_chain().intact and forged[2].sequence == first.sequence
    problems = services.verify_trail(trigger="command").checkpoint_problems
    assert [(p["sequence"], p["problem"]) for p in problems] == [(first.sequence, services.HASH_MISMATCH)]


@pytest.mark.django_db(transaction=True)
def test_events_removed_and_re_chained_before_a_checkpoint_change_its_count_or_hash(store):
    events = _trail(6)
    checkpoint = services.write_checkpoint()
    # remove the middle events and re-chain the rest with the key: every link and hash verifies again
    tamper_as_owner(("DELETE FROM portal_auditevent WHERE sequence IN (%s, %s)",
                     [events[1].sequence, events[2].sequence]))
    previous = events[0].hash
    rest = AuditEvent.objects.filter(sequence__gt=events[2].sequence).order_by("sequence")
    for event in rest:
        event.previous_hash = previous
        event.hash = previous = audit._event_hash(previous, audit._hashed_fields(event))
        tamper_as_owner(("UPDATE portal_auditevent SET previous_hash = %s, hash = %s WHERE sequence = %s",
                 [event.previous_hash, event.hash, event.sequence]))

    assert audit.verify_chain().intact
    problems = services.verify_trail(trigger="command").checkpoint_problems
    assert [(p["sequence"], p["problem"]) for p in problems] == [(checkpoint.sequence, services.HASH_MISMATCH)]


@pytest.mark.django_db(transaction=True)
def test_an_event_slipped_into_a_gap_of_the_sequence_changes_the_count(store):
    """A rolled-back append leaves a gap in the sequence; an event written into it later (as the owner) is
    counted before the checkpoint, besides breaking the link of the event after it."""
    from django.db import transaction

    before = _trail(1)[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(audit.SYSTEM, "rolled.back")
        raise RuntimeError
    after = _trail(1)[0]
    checkpoint = services.write_checkpoint()
    assert after.sequence > before.sequence + 1
    tamper_as_owner(("INSERT INTO portal_auditevent (sequence, occurred_at, actor_label, action, target_type, "
                     "target_id, target_label, data, previous_hash, hash) SELECT %s, occurred_at, actor_label, "
                     "'slipped.in', target_type, target_id, target_label, data, previous_hash, "
                     "md5(hash) || md5(hash) FROM portal_auditevent WHERE sequence = %s",
                     [before.sequence + 1, before.sequence]))

    verification = services.verify_trail(trigger="command")
    assert [(p["sequence"], p["problem"]) for p in verification.checkpoint_problems] == [
        (checkpoint.sequence, services.COUNT_MISMATCH)]
    assert {b["sequence"] for b in verification.broken_links} == {before.sequence + 1, after.sequence}


@pytest.mark.django_db(transaction=True)
def test_the_command_lists_every_finding_and_exits_non_zero(store, capsys):
    events = _trail(6)
    services.write_checkpoint()
    tamper_as_owner(("UPDATE portal_auditevent SET data = '{}' WHERE sequence IN (%s, %s)",
             [events[1].sequence, events[3].sequence]),
            ("DELETE FROM portal_auditevent WHERE sequence = %s", [events[5].sequence]))

    with pytest.raises(CommandError, match="FAILED") as failure:
        call_command("audit", "verify")
    assert failure.value.returncode == 1
    out = capsys.readouterr().out
    assert f"broken link: event {events[1].sequence} (hash)" in out
    assert f"broken link: event {events[3].sequence} (hash)" in out
    assert "beyond the head" in out


@pytest.mark.django_db(transaction=True)
def test_checkpoints_of_a_retired_key_still_verify(store, settings, tmp_path):
    _trail(2)
    old = services.write_checkpoint()
    old_public = tmp_path / "old.pem"
    old_public.write_text(checkpoints.public_pem(checkpoints.signing_key().public_key()))
    new_key = tmp_path / "new.pem"
    from cryptography.hazmat.primitives import serialization
    new_key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    settings.LOGWARDEN_CHECKPOINT_KEY = str(new_key)
    _trail(1)
    new = services.write_checkpoint()
    assert new.key != old.key
    unknown = services.verify_trail(trigger="command").checkpoint_problems
    assert [p["problem"] for p in unknown] == ["unreadable: signed by an unknown key " + old.key]

    settings.LOGWARDEN_CHECKPOINT_PUBLIC_KEYS = [str(old_public)]
    assert services.verify_trail(trigger="command").intact


@pytest.mark.django_db(transaction=True)
def test_checkpoints_are_written_to_minio_under_object_lock_and_verified_from_there(settings):
    env = require_env("MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_LOCKED_BUCKET")
    settings.LOGWARDEN_ARCHIVE_S3_ENDPOINT = env["MINIO_ENDPOINT"]
    settings.LOGWARDEN_ARCHIVE_S3_ACCESS_KEY = env["MINIO_ACCESS_KEY"]
    settings.LOGWARDEN_ARCHIVE_S3_SECRET_KEY = env["MINIO_SECRET_KEY"]
    prefix = f"trail-{uuid.uuid4().hex[:8]}"
    settings.LOGWARDEN_CHECKPOINT_STORE = f"s3://{env['MINIO_LOCKED_BUCKET']}/{prefix}"
    settings.LOGWARDEN_CHECKPOINT_RETENTION_DAYS = 1
    events = _trail(3)
    checkpoint = services.write_checkpoint()

    s3 = checkpoint_store()
    assert [o.key for o in s3.list("checkpoints/")] == [checkpoint.store_key]
    assert checkpoints.Checkpoint.from_bytes(s3.read(checkpoint.store_key)) == checkpoint
    with pytest.raises(FileExistsError):  # a conditional write: never over a checkpoint
        s3.create(checkpoint.store_key, b"{}")
    # the object lock: even the store's root user cannot delete the checkpoint's version
    client = boto3.client("s3", endpoint_url=env["MINIO_ENDPOINT"], aws_access_key_id=env["MINIO_ACCESS_KEY"],
                          aws_secret_access_key=env["MINIO_SECRET_KEY"], region_name="us-east-1")
    object_key = f"{prefix}/{checkpoint.store_key}"
    retention = client.get_object_retention(Bucket=env["MINIO_LOCKED_BUCKET"], Key=object_key)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    version = client.head_object(Bucket=env["MINIO_LOCKED_BUCKET"], Key=object_key)["VersionId"]
    with pytest.raises(ClientError, match="WORM protected|AccessDenied"):
        client.delete_object(Bucket=env["MINIO_LOCKED_BUCKET"], Key=object_key, VersionId=version)

    tamper_as_owner(("DELETE FROM portal_auditevent WHERE sequence = %s", [events[-1].sequence]))
    problems = services.verify_trail(trigger="command").checkpoint_problems
    assert [p["problem"] for p in problems] == [services.BEYOND_HEAD]


@pytest.mark.django_db(transaction=True)
def test_the_periodic_task_verifies_then_checkpoints_even_when_nothing_happened(store, settings, celery_eager):
    from celery import current_app

    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry == {"task": "topics.audit_checkpoint", "schedule": 300.0}
    _trail(2)
    first = current_app.signature(entry["task"]).delay().get()
    second = current_app.signature(entry["task"]).delay().get()  # no event in between: a checkpoint all the same

    assert first == {"intact": True, "events": 2, "checkpoints": 0}
    assert second == {"intact": True, "events": 2, "checkpoints": 1}
    stored = services.stored_checkpoints()
    head = AuditEvent.objects.latest("sequence").sequence
    assert len(stored) == 2 and {s.checkpoint.sequence for s in stored} == {head}
