"""The outbox and the keyed, coalescing queue (topics.queue) on the real PostgreSQL, Redis and broker: a change's
row commits with it, N changes queue one run per cluster, a run that cannot take the cluster's lock leaves the
changes to the holder (which runs again for them) and comes back by itself a moment later, rows are done only by
a successful run that saw them, and a grant's end schedules the run that takes its ACLs away at that moment."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from portal.celery import app
from portal.core import locks
from portal.core.audit import SYSTEM
from tests.helpers import eventually, real_worker
from topics import queue
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.catalogue.clusters import default_cluster
from topics.kafka.errors import KafkaUnavailable
from topics.models import BrokerChange, Grant, GrantState, KafkaCluster, QueuedReconcile, ReconcileRun
from topics.provisioning.health import check_queue, check_scheduler
from topics.provisioning.principals import principal_for
from topics.provisioning.reconciler import reconcile, reconcile_queued

pytestmark = [pytest.mark.kafka]


def _queued_runs(redis_url: str, cluster_id: int) -> int:
    """Reconcile messages of the cluster waiting in Redis (the workers' default queue)."""
    messages = [json.loads(raw) for raw in redis.Redis.from_url(redis_url).lrange("celery", 0, -1)]
    return sum(1 for m in messages if m["headers"]["task"] == queue.RECONCILE_CLUSTER
               and m["headers"]["argsrepr"].startswith(f"({cluster_id},"))


@pytest.mark.django_db
def test_a_change_writes_its_outbox_rows_in_its_own_transaction(world, pay):
    grant = access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=pay.topics.get(),
                                  days=2, reason="incident")

    rows = list(BrokerChange.objects.filter(cluster=grant.topic.cluster).values_list("trigger", "due_at"))
    assert ("expiry", grant.valid_until) in rows  # the run that takes the ACLs away when the grant ends
    assert [due for trigger, due in rows if trigger == "change"] and all(
        due <= timezone.now() for trigger, due in rows if trigger == "change")

    before = BrokerChange.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        access.end_grant(world.admin, grant, how=GrantState.REVOKED, reason="mistake")
        raise RuntimeError("the change rolls back")
    assert BrokerChange.objects.count() == before  # and its row with it


@pytest.mark.django_db(transaction=True)
@pytest.mark.redis
def test_many_changes_queue_one_run_per_cluster_and_it_carries_them_all(world, unique, redis_url):
    assert not app.conf.task_always_eager
    cluster = default_cluster()
    for _ in range(20):
        with transaction.atomic():
            queue.reconcile([cluster.pk])

    assert _queued_runs(redis_url, cluster.pk) == 1  # one message per change, before
    assert BrokerChange.objects.filter(cluster=cluster, done_at__isnull=True).count() == 20

    with real_worker():
        eventually(lambda: BrokerChange.objects.filter(cluster=cluster, done_at__isnull=True).count(),
                   lambda pending: pending == 0, "the outbox did not drain", seconds=30)
    runs = ReconcileRun.objects.filter(cluster=cluster)
    assert runs.count() == 1 and runs.get().succeeded
    assert set(BrokerChange.objects.filter(cluster=cluster).values_list("done_by", flat=True)) == {runs.get().pk}
    assert not QueuedReconcile.objects.filter(cluster=cluster).exists()


def _queued_run_in_thread(cluster: KafkaCluster) -> tuple[threading.Thread, list]:
    """A queued run in a thread, on a database connection of its own (as another worker's); its outcome goes into
    the list returned."""
    outcomes: list = []

    def run() -> None:
        try:
            outcomes.append(reconcile_queued(cluster))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcomes


@pytest.mark.django_db(transaction=True)
def test_a_run_that_cannot_take_the_lock_leaves_the_changes_to_the_holder_which_runs_again(
        world, settings, pause_broker):
    settings.KAFKA = {**settings.KAFKA, "timeout_seconds": 10}
    cluster = default_cluster()
    queue.reconcile([cluster.pk])  # autocommit: the row is there, its send goes to Redis (no worker here)
    with pause_broker():
        thread, _ = _queued_run_in_thread(cluster)
        eventually(lambda: ReconcileRun.objects.filter(cluster=cluster, finished_at__isnull=True).exists(),
                   bool, "the holder's run did not start")
        late = BrokerChange.objects.create(cluster=cluster, trigger="change")  # committed during the run

        assert reconcile_queued(cluster) is None  # the lock is held: no waiting, the changes stay due
        assert BrokerChange.objects.get(pk=late.pk).done_at is None
    thread.join(30)

    runs = list(ReconcileRun.objects.filter(cluster=cluster).order_by("started_at"))
    assert [run.succeeded for run in runs] == [True, True]  # the holder ran again for what came in
    assert BrokerChange.objects.get(pk=late.pk).done_by_id == runs[1].pk
    assert not BrokerChange.objects.filter(cluster=cluster, done_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.redis
def test_a_run_that_finds_the_lock_held_by_a_manual_reconcile_queues_itself_again(world):
    """A manual reconcile does not look at the outbox once it ends: the skipped run must come back by itself, not
    leave the change for the drain (no beat here: only the worker)."""
    cluster = default_cluster()
    with real_worker():
        eventually(lambda: BrokerChange.objects.filter(done_at__isnull=True).exists(), lambda due: not due,
                   "the worker's start-up drain did not settle", seconds=30)
        with locks.held(locks.LockSpace.KAFKA_CLUSTER, cluster.pk):  # as a manual run holds it
            change = BrokerChange.objects.create(cluster=cluster, trigger="change")
            thread, outcomes = _queued_run_in_thread(cluster)
            thread.join(30)
            assert outcomes == [None]
            assert BrokerChange.objects.get(pk=change.pk).done_at is None
        eventually(lambda: BrokerChange.objects.get(pk=change.pk).done_by, bool,
                   "the skipped run did not come back once the lock was free", seconds=15)
    assert BrokerChange.objects.get(pk=change.pk).done_by.succeeded


@pytest.mark.django_db
def test_only_a_run_that_succeeds_marks_its_changes_done(world, settings):
    settings.KAFKA = {**settings.KAFKA, "timeout_seconds": 2}
    unreachable = KafkaCluster.objects.create(name="unreachable", bootstrap="127.0.0.1:1", sasl_username="admin",
                                              sasl_password_ref="env:KAFKA_SASL_PASSWORD")
    queue.reconcile([unreachable.pk, default_cluster().pk])

    with pytest.raises(KafkaUnavailable):
        reconcile(unreachable, trigger="change")
    reconcile(default_cluster(), trigger="change")

    assert BrokerChange.objects.get(cluster=unreachable).done_at is None
    done = BrokerChange.objects.get(cluster=default_cluster())
    assert done.done_at is not None and done.done_by.succeeded
    assert check_queue().state == "ok" and "1 change(s) pending" in check_queue().detail
    BrokerChange.objects.filter(cluster=unreachable).update(due_at=timezone.now() - timedelta(hours=1))
    assert check_queue().state == "degraded"


@pytest.mark.django_db
def test_the_scheduler_is_late_without_a_recent_periodic_pass(world):
    cluster = default_cluster()
    assert check_scheduler().state == "degraded"  # none yet
    ReconcileRun.objects.create(cluster=cluster, trigger="periodic", started_at=timezone.now() - timedelta(hours=1))
    assert check_scheduler().state == "degraded" and "late" in check_scheduler().detail
    ReconcileRun.objects.create(cluster=cluster, trigger="periodic", started_at=timezone.now())
    assert check_scheduler().state == "ok"


@pytest.mark.django_db(transaction=True)
@pytest.mark.redis
def test_a_grant_leaves_the_broker_when_it_ends_not_at_the_next_periodic_pass(world, unique, kafka_admin):
    namespace = catalogue.register_namespace(SYSTEM, name=f"end-{unique}", owner_team=world.payments)
    principal = principal_for(world.engineer)
    with real_worker():
        grant = access.grant_directly(world.admin, principal=principal, topic=namespace.topics.get(), days=1,
                                      reason="until the incident ends")
        user = f"User:{principal.name}.a"
        eventually(lambda: kafka_admin.describe_acls(principal=user, resource_name=namespace.topics.get().name),
                   bool, "the grant's ACLs did not reach the broker", seconds=30)
        ends = timezone.now() + timedelta(seconds=3)  # as if the grant had been made for 3 s
        Grant.objects.filter(pk=grant.pk).update(valid_until=ends)
        BrokerChange.objects.filter(trigger="expiry", due_at=grant.valid_until).update(due_at=ends)
        queue.drain()  # what the beat does every LOGWARDEN_DRAIN_SECONDS: schedules the run due soon

        eventually(lambda: kafka_admin.describe_acls(principal=user, resource_name=namespace.topics.get().name),
                   lambda acls: not acls, "the ACLs did not leave at the grant's end", seconds=15)
        late = (timezone.now() - ends).total_seconds()
    grant.refresh_from_db()
    assert grant.state == GrantState.EXPIRED
    assert late < 3, f"the ACLs left {late:.1f} s after the grant's end"
    assert not ReconcileRun.objects.filter(trigger="periodic").exists()  # no periodic pass was needed
