"""The audit trail: appended in order, hash-chained, secret-free, and refused change by the database."""
from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from portal import audit
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
