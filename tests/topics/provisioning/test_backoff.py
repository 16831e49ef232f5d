"""Per-item backoff: an item the broker keeps refusing waits longer before each retry, up to the cap, and holds
back nothing else — other items, revocations, the outbox. The waits are plain arithmetic; the rest runs on the
real broker (reconciles inline: celery_eager, on-commit callbacks executed), with a test system role whose one
binding the broker refuses (a topic named "")."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from portal.core.audit import SYSTEM
from tests.api_clients import client_as
from tests.factories import approve, ask
from tests.helpers import eventually
from topics import queue
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.catalogue.clusters import default_cluster
from topics.kafka.types import AclBinding, Operation, PatternType, ResourceType
from topics.models import BrokerChange, GrantState, KafkaCredential, ReconcileRetry, ReconcileRun, RunStatus
from topics.provisioning import system_principals, system_roles
from topics.provisioning.backoff import delay
from topics.provisioning.desired import read_bindings
from topics.provisioning.reconciler import reconcile


def test_the_wait_doubles_from_the_first_delay_and_stops_at_the_cap():
    waits = [delay(attempts, first=30, cap=300).total_seconds() for attempts in range(1, 8)]

    assert waits == [30, 60, 120, 240, 300, 300, 300]
    assert delay(10_000, first=30, cap=3600) == timedelta(seconds=3600)  # no overflow after many refusals


@pytest.fixture
def refused(world, unique, settings, celery_eager, django_capture_on_commit_callbacks):
    """A system principal on the default cluster whose role's one binding the broker refuses; its first run
    done. Retries wait 30 s, then 60 s, never more than 50 s."""
    settings.LOGWARDEN_RECONCILE_RETRY_SECONDS, settings.LOGWARDEN_RECONCILE_RETRY_MAX_SECONDS = 30, 50
    role = f"test-refused-{unique}"
    system_roles.register(role, bindings=lambda cluster, usernames, topics: {
        AclBinding(f"User:{username}", ResourceType.TOPIC, "", PatternType.LITERAL, Operation.READ)
        for username in usernames})
    cluster = default_cluster()
    with django_capture_on_commit_callbacks(execute=True):
        principal = system_principals.ensure(f"portal.f{unique}", role, cluster)
    username = KafkaCredential.objects.get(principal=principal).username
    yield SimpleNamespace(cluster=cluster, role=role, item=f"User:{username} ALLOW READ TOPIC:")
    system_roles.unregister(role)


def _retry(refused) -> ReconcileRetry:
    return ReconcileRetry.objects.get(cluster=refused.cluster, action="acl.create", item=refused.item)


def _last_run(refused) -> ReconcileRun:
    return ReconcileRun.objects.filter(cluster=refused.cluster).first()


@pytest.mark.kafka
@pytest.mark.django_db
def test_a_refused_binding_is_retried_later_each_time_up_to_the_cap(refused):
    retry = _retry(refused)
    first = _last_run(refused)
    assert retry.attempts == 1 and "acl.create" in retry.action and retry.error
    assert retry.retry_at == first.started_at + timedelta(seconds=30)
    [failure] = first.failures
    assert failure["retry_at"] == retry.retry_at.isoformat() and failure["attempts"] == 1

    # before its time, a run leaves it alone: no broker call, the last refusal shown with the retry time
    held = reconcile(refused.cluster).run
    # refused nothing now: it says it waits, not that it failed in part
    assert held.status == RunStatus.WAITING and held.counts["held_back"] == 1 and held.counts["failed"] == 0
    assert held.succeeded is False
    assert held.failures == [{"action": "acl.create", "item": refused.item, "error": retry.error, "attempts": 1,
                              "retry_at": retry.retry_at.isoformat(), "held": True}]
    assert _retry(refused).attempts == 1

    waits = []
    for _ in range(2):  # its time comes: tried again, refused again, a longer wait (capped at 50 s)
        ReconcileRetry.objects.filter(pk=retry.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
        run = reconcile(refused.cluster).run
        waits.append(((_retry(refused).retry_at - run.started_at).total_seconds(), _retry(refused).attempts,
                      run.status))
    assert waits == [(50, 2, RunStatus.PARTIAL), (50, 3, RunStatus.PARTIAL)]  # refused by this run: partial

    system_roles.unregister(refused.role)  # no longer desired: nothing left to retry
    assert reconcile(refused.cluster).run.status == RunStatus.SUCCEEDED
    assert not ReconcileRetry.objects.filter(cluster=refused.cluster).exists()


@pytest.mark.kafka
@pytest.mark.django_db
def test_a_waiting_item_delays_no_grant_no_revocation_and_leaves_the_outbox_to_its_retry_time(
        refused, world, unique, kafka_admin, django_capture_on_commit_callbacks):
    retry_at = _retry(refused).retry_at
    # the changes were carried as far as they go; one change is due at the retry time, so no drain resends them
    assert not BrokerChange.objects.filter(cluster=refused.cluster, done_at__isnull=True,
                                           due_at__lte=timezone.now()).exists()
    assert BrokerChange.objects.filter(cluster=refused.cluster, done_at__isnull=True, due_at=retry_at,
                                       trigger="retry").exists()
    assert refused.cluster.pk not in queue.drain()["sent"]

    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"bo-{unique}", owner_team=world.payments)
    with django_capture_on_commit_callbacks(execute=True):
        grant = approve(world, ask(world, namespace))
    username = KafkaCredential.objects.get(principal=grant.principal, cluster=refused.cluster).username
    bindings = set(read_bindings(username, grant.topic.name))
    on_broker = eventually(lambda: set(kafka_admin.describe_acls(principal=f"User:{username}")),
                           lambda acls: bindings <= acls, "the grant's ACLs while another item waits")
    assert bindings <= on_broker

    with django_capture_on_commit_callbacks(execute=True):
        access.end_grant(world.admin, grant, how=GrantState.REVOKED, reason="over")
    eventually(lambda: set(kafka_admin.describe_acls(principal=f"User:{username}")),
               lambda acls: not bindings & acls, "the revocation while another item waits")
    assert _retry(refused).attempts == 1  # the waiting item was not tried by these runs

    page = client_as(world, "admin").get("/access/reconcile/").content.decode()
    assert refused.item in page and f"retrying at {retry_at:%Y-%m-%d %H:%M:%S} UTC" in page
    assert _last_run(refused).status == RunStatus.WAITING and "Waiting: 1 to retry later" in page
    shown = client_as(world, "auditor").get(f"/api/reconcile-runs/{_last_run(refused).pk}/").json()
    assert {"item": refused.item, "retry_at": retry_at.isoformat(), "held": True}.items() \
        <= next(f for f in shown["failures"] if f["item"] == refused.item).items()
