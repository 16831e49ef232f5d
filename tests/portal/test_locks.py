"""The installation's named locks on the real PostgreSQL: each purpose has its own space, so a cluster's
reconcile lock never holds up the audit trail whatever the cluster's id, and a try-lock says when it is taken."""
from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, transaction

from portal.core import audit, locks
from topics.models import KafkaCluster
from topics.provisioning.reconciler import cluster_lock

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_purpose_has_its_own_space():
    assert len({int(space) for space in locks.LockSpace}) == len(locks.LockSpace)


def _hold_in_another_connection(hold, release: threading.Event, holding: threading.Event) -> threading.Thread:
    def run():
        try:
            with hold():
                holding.set()
                release.wait(10)
        finally:
            connection.close()
    thread = threading.Thread(target=run)
    thread.start()
    assert holding.wait(10), "the other connection did not take its lock"
    return thread


# 16725 is the id whose cluster lock was once the audit chain's (0x4C57_0000 + 0x4155 = 0x4C57_4155)
@pytest.mark.parametrize("cluster_id", [0, 1, 16725])
def test_a_held_cluster_lock_never_blocks_the_audit_trail(cluster_id):
    cluster = KafkaCluster.objects.create(pk=cluster_id, name=f"c{cluster_id}", bootstrap="127.0.0.1:9092")
    release, holding = threading.Event(), threading.Event()
    holder = _hold_in_another_connection(lambda: cluster_lock(cluster), release, holding)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            audit.record(audit.SYSTEM, "test.locks", cluster)  # waited for the cluster's lock before: timed out
    finally:
        release.set()
        holder.join()


def test_a_try_lock_says_another_holder_has_it_and_the_waiting_lock_gets_it_after():
    release, holding = threading.Event(), threading.Event()
    holder = _hold_in_another_connection(lambda: locks.held(locks.LockSpace.KAFKA_CLUSTER, 7), release, holding)
    try:
        with locks.held(locks.LockSpace.KAFKA_CLUSTER, 7, wait=False) as got:
            assert got is False
        with locks.held(locks.LockSpace.KAFKA_CLUSTER, 8, wait=False) as got:
            assert got is True  # another key of the space is free
    finally:
        release.set()
        holder.join()
    with locks.held(locks.LockSpace.KAFKA_CLUSTER, 7, wait=False) as got:
        assert got is True


def test_an_audit_append_waits_for_the_chain_lock_of_another_transaction():
    release, holding = threading.Event(), threading.Event()

    def chain_held():
        from contextlib import contextmanager

        @contextmanager
        def hold():
            with transaction.atomic():
                locks.hold_for_transaction(locks.LockSpace.AUDIT_CHAIN, 0)
                yield
        return hold()

    holder = _hold_in_another_connection(chain_held, release, holding)
    try:
        with pytest.raises(OperationalError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '500ms'")
            audit.record(audit.SYSTEM, "test.locks")
    finally:
        release.set()
        holder.join()
