"""The audit trail: appended in order, hash-chained with a key only the application holds, secret-free, and
refused change by the database."""
from __future__ import annotations

import hashlib
import threading

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from portal.core import audit
from portal.models import AuditEvent


@pytest.mark.django_db
def test_events_chain_and_verify():
    first = audit.record(audit.SYSTEM, "thing.create", target_type="t", target_id="1", target_label="one", size=3)
    second = audit.record(audit.SYSTEM, "thing.update", target_type="t", target_id="1", target_label="one")

    assert first.previous_hash == audit.GENESIS and second.previous_hash == first.hash
    report = audit.verify_chain()
    assert report.intact and report.checked == 2


@pytest.mark.django_db
def test_secrets_are_redacted_at_any_depth():
    event = audit.record(audit.SYSTEM, "cred.issue", password="hunter2",
                         nested={"api_token": "lw_abc", "ok": [{"client_secret": "s3", "name": "n"}]})

    assert event.data == {"password": audit.REDACTED,
                          "nested": {"api_token": audit.REDACTED,
                                     "ok": [{"client_secret": audit.REDACTED, "name": "n"}]}}


@pytest.mark.django_db
def test_non_json_payload_is_refused_before_anything_is_written():
    with pytest.raises(TypeError):
        audit.record(audit.SYSTEM, "bad.payload", thing=object())
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_database_refuses_update_and_delete_of_events():
    event = audit.record(audit.SYSTEM, "thing.create")
    for statement in ("UPDATE portal_auditevent SET action = 'forged' WHERE sequence = %s",
                      "DELETE FROM portal_auditevent WHERE sequence = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [event.sequence])


@pytest.mark.django_db
def test_tampering_is_found_by_verification():
    audit.record(audit.SYSTEM, "a")
    target = audit.record(audit.SYSTEM, "b", amount=1)
    audit.record(audit.SYSTEM, "c")
    # a DBA with the power to drop the trigger could still rewrite a row: the chain shows it
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE portal_auditevent DISABLE TRIGGER portal_auditevent_append_only")
        cursor.execute("UPDATE portal_auditevent SET data = '{\"amount\": 1000}' WHERE sequence = %s",
                       [target.sequence])
        cursor.execute("ALTER TABLE portal_auditevent ENABLE TRIGGER portal_auditevent_append_only")

    report = audit.verify_chain()
    assert not report.intact and report.first_broken == target.sequence


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain():
    def append(worker: int) -> None:
        try:
            for i in range(10):
                audit.record(audit.SYSTEM, "load.append", worker=worker, i=i)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    report = audit.verify_chain()
    assert report.intact and report.checked == 40


def _rebuild_chain(hash_event) -> None:
    """What someone with database access alone can do: truncate the trail and write a plausible new history,
    chaining each event with `hash_event(previous, fields)`."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE portal_auditevent")
    previous = audit.GENESIS
    for action in ("thing.create", "thing.update"):
        event = AuditEvent(occurred_at=timezone.now(), actor_label="system", action=action, target_type="t",
                           target_id="1", target_label="one", data={}, previous_hash=previous)
        event.hash = previous = hash_event(previous, audit._hashed_fields(event))
        event.save(force_insert=True)


def _plain_sha256(previous: str, fields) -> str:
    return hashlib.sha256((previous + audit._canonical(fields)).encode()).hexdigest()


@pytest.mark.django_db
def test_a_chain_rebuilt_without_the_key_does_not_verify():
    audit.record(audit.SYSTEM, "grant.create", target_type="t", target_id="1", target_label="one")
    audit.record(audit.SYSTEM, "grant.revoke", target_type="t", target_id="1", target_label="one")

    _rebuild_chain(_plain_sha256)  # the algorithm is public; the key is not in the database
    first = AuditEvent.objects.order_by("sequence").first()

    report = audit.verify_chain()
    assert not report.intact and report.first_broken == first.sequence and report.checked == 0


@pytest.mark.django_db
def test_a_chain_rebuilt_with_the_key_verifies():
    """The same rebuild with the key is accepted: the failure above is the key's doing, not the rebuild's."""
    _rebuild_chain(audit._event_hash)

    assert audit.verify_chain().intact


@pytest.mark.django_db
def test_the_chain_does_not_verify_under_another_audit_key():
    first = audit.record(audit.SYSTEM, "a")
    audit.record(audit.SYSTEM, "b")

    with override_settings(LOGWARDEN_AUDIT_KEY="another-audit-key-" + "x" * 40):
        report = audit.verify_chain()

    assert not report.intact and report.first_broken == first.sequence
    assert audit.verify_chain().intact


@pytest.mark.django_db
def test_a_rotated_audit_key_is_verified_by_re_anchoring():
    old_key, new_key = settings.LOGWARDEN_AUDIT_KEY, "rotated-audit-key-" + "y" * 40
    audit.record(audit.SYSTEM, "before.rotation")
    anchor = audit.record(audit.SYSTEM, "before.rotation")

    with override_settings(LOGWARDEN_AUDIT_KEY=new_key):
        after = audit.record(audit.SYSTEM, "after.rotation")
        whole = audit.verify_chain()
        old_part = audit.verify_chain(secret_key=old_key, until=anchor.sequence)
        new_part = audit.verify_chain(after=anchor.sequence)

    assert after.previous_hash == anchor.hash
    assert not whole.intact  # the old events verify only with the old key
    assert old_part.intact and old_part.checked == 2
    assert new_part.intact and new_part.checked == 1
