"""The audit trail: appended in order, hash-chained with a key only the application holds, secret-free, and
refused change by the database."""
from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from datetime import timezone as dt_timezone

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from portal.core import audit, chain, database_roles
from portal.core.chain import BrokenLink
from portal.models import AuditEvent
from tests.helpers import owner_connection, tamper_as_owner


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
def test_the_runtime_role_may_only_append_to_and_read_the_trail():
    """The suite connects as the portal does, as the runtime role: it owns nothing, so besides the triggers the
    privileges refuse every change, the TRUNCATE and the switching off of the triggers."""
    event = audit.record(audit.SYSTEM, "thing.create")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == database_roles.runtime_role() != database_roles.owner_credentials()["USER"]
    for statement in ("UPDATE portal_auditevent SET action = 'forged' WHERE sequence = %s",
                      "DELETE FROM portal_auditevent WHERE sequence = %s",
                      "TRUNCATE portal_auditevent",
                      "ALTER TABLE portal_auditevent DISABLE TRIGGER portal_auditevent_append_only",
                      "ALTER TABLE portal_auditevent DISABLE TRIGGER USER",
                      "DROP TRIGGER portal_auditevent_no_truncate ON portal_auditevent"):
        with pytest.raises(DatabaseError, match="permission denied|must be owner"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [event.sequence] if "%s" in statement else None)
    assert AuditEvent.objects.get(sequence=event.sequence).action == "thing.create"


@pytest.mark.django_db(transaction=True)
def test_the_triggers_refuse_even_the_owner_update_delete_and_truncate():
    event = audit.record(audit.SYSTEM, "thing.create")
    with owner_connection() as owner:
        for statement in ("UPDATE portal_auditevent SET action = 'forged' WHERE sequence = %s",
                          "DELETE FROM portal_auditevent WHERE sequence = %s",
                          "TRUNCATE portal_auditevent"):
            with pytest.raises(psycopg.Error, match="append-only"):
                owner.execute(statement, [event.sequence] if "%s" in statement else None)
    assert AuditEvent.objects.filter(sequence=event.sequence).exists()


@pytest.mark.django_db(transaction=True)
def test_tampering_is_found_by_verification():
    audit.record(audit.SYSTEM, "a")
    target = audit.record(audit.SYSTEM, "b", amount=1)
    audit.record(audit.SYSTEM, "c")
    # the owner (a DBA) could switch the trigger off and rewrite a row: the chain shows it
    with owner_connection() as owner, owner.transaction():
        owner.execute("ALTER TABLE portal_auditevent DISABLE TRIGGER portal_auditevent_append_only")
        owner.execute("UPDATE portal_auditevent SET data = '{\"amount\": 1000}' WHERE sequence = %s",
                      [target.sequence])
        owner.execute("ALTER TABLE portal_auditevent ENABLE TRIGGER portal_auditevent_append_only")

    report = audit.verify_chain()
    assert report.broken == (BrokenLink(target.sequence, chain.HASH),) and report.checked == 3


@pytest.mark.django_db(transaction=True)
def test_every_broken_link_is_listed():
    events = [audit.record(audit.SYSTEM, "e", i=i) for i in range(10)]
    tamper_as_owner(("UPDATE portal_auditevent SET data = '{\"i\": 99}' WHERE sequence = %s", [events[2].sequence]),
            ("DELETE FROM portal_auditevent WHERE sequence = %s", [events[5].sequence]),
            ("UPDATE portal_auditevent SET previous_hash = %s WHERE sequence = %s",
             [audit.GENESIS, events[8].sequence]))

    expected = (BrokenLink(events[2].sequence, chain.HASH), BrokenLink(events[6].sequence, chain.LINK),
                BrokenLink(events[8].sequence, chain.HASH), BrokenLink(events[8].sequence, chain.LINK))
    assert audit.verify_chain().broken == expected
    # the same from worker processes, each checking a range, and the seams between their ranges
    parallel = audit.verify_chain(workers=2)
    assert parallel.broken == expected and parallel.checked == 9


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
    tamper_as_owner(("TRUNCATE portal_auditevent", []))
    previous = audit.GENESIS
    for action in ("thing.create", "thing.update"):
        event = AuditEvent(occurred_at=timezone.now(), actor_label="system", action=action, target_type="t",
                           target_id="1", target_label="one", data={}, previous_hash=previous)
        event.hash = previous = hash_event(previous, audit._hashed_fields(event))
        event.save(force_insert=True)


def _plain_sha256(previous: str, fields) -> str:
    return hashlib.sha256((previous + audit._canonical(fields)).encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_a_chain_rebuilt_without_the_key_does_not_verify():
    audit.record(audit.SYSTEM, "grant.create", target_type="t", target_id="1", target_label="one")
    audit.record(audit.SYSTEM, "grant.revoke", target_type="t", target_id="1", target_label="one")

    _rebuild_chain(_plain_sha256)  # the algorithm is public; the key is not in the database
    rebuilt = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)

    report = audit.verify_chain()
    assert report.broken == tuple(BrokenLink(sequence, chain.HASH) for sequence in rebuilt)


@pytest.mark.django_db(transaction=True)
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
        without_the_old_key = audit.verify_chain()
        old_part = audit.verify_chain(secret_key=old_key, until=anchor.sequence)
        new_part = audit.verify_chain(after=anchor.sequence)
        with override_settings(LOGWARDEN_AUDIT_RETIRED_KEYS=[old_key]):
            whole = audit.verify_chain()

    assert after.previous_hash == anchor.hash  # the new key's stretch chains on from the old one's last hash
    assert not without_the_old_key.intact
    assert old_part.intact and old_part.checked == 2
    assert new_part.intact and new_part.checked == 1
    assert whole.intact and whole.checked == 3 and whole.head == (after.sequence, after.hash)


@pytest.mark.django_db
def test_a_retired_key_cannot_append_after_the_rotation():
    """Someone who kept the old key writes an event after the rotation under it: it chains correctly and its
    hash is one the old key gives, but a stretch of an older key never follows a newer one."""
    old_key, new_key = settings.LOGWARDEN_AUDIT_KEY, "rotated-audit-key-" + "z" * 40
    audit.record(audit.SYSTEM, "before.rotation")
    with override_settings(LOGWARDEN_AUDIT_KEY=new_key):
        audit.record(audit.SYSTEM, "after.rotation")
    forged = audit.record(audit.SYSTEM, "forged.with.the.old.key")  # settings back on the old key

    with override_settings(LOGWARDEN_AUDIT_KEY=new_key, LOGWARDEN_AUDIT_RETIRED_KEYS=[old_key]):
        report = audit.verify_chain()
    assert report.broken == (BrokenLink(forged.sequence, chain.HASH),)


@pytest.mark.django_db(transaction=True)
def test_raw_rows_read_occurred_at_as_it_was_hashed():
    """The verifier reads occurred_at as text from PostgreSQL: whole seconds have no fraction, and trailing zeros
    of the microseconds stay, as in Python's isoformat()."""
    previous = AuditEvent.objects.order_by("-sequence").values_list("hash", flat=True).first() or audit.GENESIS
    for moment in (datetime(2026, 1, 1, 0, 0, 0, tzinfo=dt_timezone.utc),
                   datetime(2026, 1, 1, 0, 0, 0, 123400, tzinfo=dt_timezone.utc),
                   datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=dt_timezone.utc)):
        event = AuditEvent(occurred_at=moment, actor_label="system", action="a", data={"x": 1.5, "s": "é\n"},
                           previous_hash=previous)
        event.hash = previous = audit._event_hash(previous, audit._hashed_fields(event))
        event.save(force_insert=True)

    assert audit.verify_chain(workers=1).intact and audit.verify_chain(workers=2).intact
