"""Request → approval → grant → provisioned, end to end on the real broker (and back off it)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.audit import SYSTEM
from portal.models import AuditEvent
from tests.conftest import create_acls_visibly
from topics.kafka.adapter import produce, read_records
from topics.kafka.errors import KafkaAuthorizationError, KafkaUnavailable
from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType, ScramUpsert
from topics.models import Grant, GrantState, KafkaCredential, ReconcileRun
from topics.services import access, catalogue, handoff
from topics.services.principals import principal_for
from topics.services.reconciler import reconcile
from topics.tasks import reconcile_all

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]
RECORD = json.dumps({"log": "GET /health 200\n", "stream": "stdout",
                     "kubernetes": {"namespace_name": "payments", "pod_name": "api-1"}}).encode()


@pytest.fixture
def namespaces(world, unique, kafka_connection, django_capture_on_commit_callbacks, celery_eager):
    """Two namespaces of team payments with their topics on the broker, one record in each."""
    with django_capture_on_commit_callbacks(execute=True):
        mine = catalogue.register_namespace(SYSTEM, name=f"pay-{unique}", owner_team=world.payments)
        other = catalogue.register_namespace(SYSTEM, name=f"oth-{unique}", owner_team=world.checkout)
    for namespace in (mine, other):
        produce(kafka_connection, namespace.topics.get().name, [RECORD])
    return mine, other


def approve(world, namespace, capture, *, principal_user=None, days=7):
    principal = principal_for(principal_user or world.engineer)
    request = access.create_request(world.engineer, principal=principal, namespaces=[namespace],
                                    reason="debug a failing payment", duration_days=days)
    with capture(execute=True):
        access.decide(world.owner, request.items.get(), "approve", "ok for a week")
    credential = KafkaCredential.objects.get(principal=principal)
    return principal, credential


def connect(kafka_connection, credential):
    return kafka_connection.as_user(credential.username, handoff.claim(credential))


def test_approved_request_lets_the_principal_read_its_topic_and_nothing_else(
        world, namespaces, kafka_connection, django_capture_on_commit_callbacks):
    mine, other = namespaces
    principal, credential = approve(world, mine, django_capture_on_commit_callbacks)
    as_user = connect(kafka_connection, credential)

    assert read_records(as_user, mine.topics.get().name, group=f"{principal.name}.debug") == [RECORD]
    with pytest.raises(KafkaAuthorizationError):
        read_records(as_user, other.topics.get().name, group=f"{principal.name}.debug")
    with pytest.raises(handoff.HandoffUnavailable):
        handoff.claim(credential)  # shown once
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"request.create", "request.approve", "grant.create", "scram_user.create", "acl.create"} <= actions


def test_revocation_and_expiry_take_the_acls_off_the_broker(
        world, namespaces, kafka_connection, kafka_admin, django_capture_on_commit_callbacks):
    mine, _ = namespaces
    principal, credential = approve(world, mine, django_capture_on_commit_callbacks)
    as_user = connect(kafka_connection, credential)
    topic = mine.topics.get().name
    grant = Grant.objects.get(principal=principal)

    with django_capture_on_commit_callbacks(execute=True):
        access.end_grant(world.owner, grant, how=GrantState.REVOKED, reason="incident closed")
    with pytest.raises(KafkaAuthorizationError):
        read_records(as_user, topic, group=f"{principal.name}.again")
    assert not kafka_admin.describe_acls(principal=f"User:{credential.username}", resource_name=topic)

    # a second grant that runs out: the periodic pass expires it and removes its ACLs
    with django_capture_on_commit_callbacks(execute=True):
        grant = access.grant_directly(world.admin, principal=principal, topic=mine.topics.get(), days=1,
                                      reason="follow-up")
    assert read_records(as_user, topic, group=f"{principal.name}.third") == [RECORD]
    Grant.objects.filter(pk=grant.pk).update(valid_from=timezone.now() - timedelta(days=2),
                                             valid_until=timezone.now() - timedelta(seconds=1))
    reconcile_all.delay().get()
    grant.refresh_from_db()
    assert grant.state == GrantState.EXPIRED
    with pytest.raises(KafkaAuthorizationError):
        read_records(as_user, topic, group=f"{principal.name}.fourth")
    assert AuditEvent.objects.filter(action="grant.expire", target_id=str(grant.pk)).exists()


def test_out_of_band_acl_is_removed_by_the_full_reconcile_and_reported_as_drift(
        world, namespaces, kafka_admin, celery_eager):
    topic = namespaces[0].topics.get()
    intruder = AclBinding("User:intruder", ResourceType.TOPIC, topic.name, PatternType.LITERAL, Operation.READ)
    create_acls_visibly(kafka_admin, [intruder])

    reconcile_all.delay().get()

    assert intruder not in kafka_admin.describe_acls(resource_name=topic.name)
    run = ReconcileRun.objects.filter(cluster=topic.cluster, trigger="periodic").first()
    assert run.succeeded and run.drift["foreign_acls_total"] >= 1
    assert any("User:intruder" in line for line in run.drift["foreign_acls"])
    assert AuditEvent.objects.filter(action="acl.delete", data__foreign=True).exists()


def test_a_second_reconcile_in_a_row_writes_nothing(world, namespaces, django_capture_on_commit_callbacks):
    mine, _ = namespaces
    approve(world, mine, django_capture_on_commit_callbacks)
    cluster = mine.topics.get().cluster
    reconcile(cluster)

    second = reconcile(cluster)

    assert second.plan.writes == 0 and second.plan.empty
    assert not second.topics.created and not second.topics.reconfigured
    assert second.run.counts["create_acls"] == 0 and second.run.succeeded


def test_broker_outage_during_approval_converges_once_the_broker_is_back(
        world, namespaces, kafka_connection, settings, pause_broker, django_capture_on_commit_callbacks):
    mine, _ = namespaces
    settings.KAFKA = {**settings.KAFKA, "timeout_seconds": 2}
    principal = principal_for(world.engineer)
    request = access.create_request(world.engineer, principal=principal, namespaces=[mine], reason="on call",
                                    duration_days=3)
    cluster = mine.topics.get().cluster
    with pause_broker():
        # the approval commits while the broker is unreachable; its reconcile fails and is recorded
        with django_capture_on_commit_callbacks(execute=False):
            access.decide(world.owner, request.items.get(), "approve", "go")
        with pytest.raises(KafkaUnavailable):
            reconcile(cluster, trigger="change")
    failed = ReconcileRun.objects.filter(cluster=cluster).first()
    assert failed.succeeded is False and "KAFKA_BOOTSTRAP" in failed.error
    assert Grant.objects.filter(principal=principal, state=GrantState.ACTIVE).exists()

    reconcile_all.delay().get()  # the periodic pass, once the broker answers again

    credential = KafkaCredential.objects.get(principal=principal)
    as_user = connect(kafka_connection, credential)
    assert read_records(as_user, mine.topics.get().name, group=f"{principal.name}.late") == [RECORD]


def test_what_logwarden_does_not_own_survives_a_reconcile(world, namespaces, kafka_admin, unique):
    topic = namespaces[0].topics.get()
    others = [
        AclBinding(f"User:lw-other-{unique}", ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL,
                   Operation.IDEMPOTENT_WRITE),
        AclBinding(f"User:shipper.fluentd-{unique}", ResourceType.TOPIC, "logs.", PatternType.PREFIXED,
                   Operation.WRITE),
        AclBinding(f"User:lw-other-{unique}", ResourceType.TOPIC, topic.name, PatternType.LITERAL, Operation.READ,
                   Permission.DENY),
        AclBinding(f"User:u.elsewhere-{unique}.a", ResourceType.TOPIC, f"billing-{unique}", PatternType.LITERAL,
                   Operation.READ),
    ]
    create_acls_visibly(kafka_admin, others)
    kafka_admin.upsert_scram_credentials([ScramUpsert(f"shipper.fluentd-{unique}", "a-shipper-password")])

    run = reconcile(topic.cluster, trigger="periodic").run

    assert run.succeeded and f"User:u.elsewhere-{unique}.a" in " ".join(run.drift["unmanaged_acls"])
    assert set(others) <= set(kafka_admin.describe_acls())
    assert f"shipper.fluentd-{unique}" in kafka_admin.list_scram_users()
