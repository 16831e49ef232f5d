"""The reconciler on the real broker takes access away whatever else fails, audits every change that reached
the broker, and deletes only what it recorded creating (or adopted from before it kept records)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.factories import approve, ask
from tests.helpers import create_acls_visibly
from topics.catalogue import services as catalogue
from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType, ScramUpsert
from topics.catalogue.models import new_ownership_version
from topics.models import (Grant, GrantSource, KafkaCluster, KafkaCredential, OwnedAclBinding,
                           OwnedScramUser, ReconcileRetry, RunStatus, Topic, TopicState)
from topics.provisioning.desired import read_bindings
from topics.provisioning.reconciler import reconcile

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]


@pytest.fixture
def granted(world, unique, django_capture_on_commit_callbacks, celery_eager):
    """alice holds a grant on namespace pay-<unique>, provisioned on the broker; returns (cluster, grant)."""
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"pay-{unique}", owner_team=world.payments)
    with django_capture_on_commit_callbacks(execute=True):
        grant = approve(world, ask(world, namespace))
    cluster = KafkaCluster.objects.get(pk=grant.topic.cluster_id)
    return cluster, grant


def another_namespace(world, name, capture):
    with capture(execute=True):
        return catalogue.register_namespace(SYSTEM, name=name, owner_team=world.checkout).topics.get()


def grant_on(grant, topic) -> Grant:
    now = timezone.now()
    return Grant.objects.create(principal=grant.principal, topic=topic, valid_from=now,
                                valid_until=now + timedelta(days=1), source=GrantSource.ADMIN)


def username_of(grant) -> str:
    return KafkaCredential.objects.get(principal=grant.principal).username


def expire(grant) -> None:
    now = timezone.now()
    Grant.objects.filter(pk=grant.pk).update(valid_from=now - timedelta(days=1),
                                             valid_until=now - timedelta(seconds=1))


def test_a_refused_acl_and_a_bad_topic_hold_back_no_revocation_and_the_rest_is_applied_and_audited(
        world, granted, unique, kafka_admin, django_capture_on_commit_callbacks):
    cluster, grant = granted
    user = username_of(grant)
    revoked = set(read_bindings(user, grant.topic.name))
    assert revoked <= set(kafka_admin.describe_acls(principal=f"User:{user}"))
    bad = another_namespace(world, f"bad-{unique}", django_capture_on_commit_callbacks)
    Topic.objects.filter(pk=bad.pk).update(name="")  # a name the broker refuses, as a topic and in an ACL
    grant_on(grant, bad)
    fine = grant_on(grant, another_namespace(world, f"oth-{unique}", django_capture_on_commit_callbacks))
    expire(grant)

    run = reconcile(cluster).run

    on_broker = set(kafka_admin.describe_acls(principal=f"User:{user}"))
    assert not revoked & on_broker  # the expiry took effect
    created = set(read_bindings(user, fine.topic.name))
    assert created <= on_broker
    # the run the second namespace's registration made was refused the bad items; this one holds them back
    assert run.status == RunStatus.WAITING and run.succeeded is False
    refused = {(f["action"], f["item"]) for f in run.failures}
    assert ("acl.create", f"User:{user} ALLOW READ TOPIC:") in refused
    assert ("topic.sync", "") in refused  # the topic is its own item, backed off like the binding
    assert Topic.objects.get(pk=bad.pk).state == TopicState.ERROR
    assert Topic.objects.get(pk=fine.topic.pk).state == TopicState.READY  # one refused topic fails no other
    audited = set(AuditEvent.objects.filter(data__reconcile_run=run.pk).values_list("action", "target_id"))
    assert {("acl.create", f"User:{user} ALLOW {b.operation.value} TOPIC:{fine.topic.name}")
            for b in created} <= audited
    assert {("acl.delete", f"User:{user} ALLOW {b.operation.value} TOPIC:{grant.topic.name}")
            for b in revoked} <= audited

    again = reconcile(cluster)  # the refused items wait for their retry time (test_backoff), and only they
    assert again.run.status == RunStatus.WAITING and again.run.counts["failed"] == 0
    assert {(f["action"], f["item"]) for f in again.run.failures if f["held"]} == refused
    assert {b.resource_name for b in again.plan.create_acls} == {""} and not again.plan.delete_acls
    assert set(ReconcileRetry.objects.filter(cluster=cluster).values_list("action", "item")) == refused


def test_only_what_logwarden_recorded_is_deleted_and_allowlisted_readers_stay(granted, unique, kafka_admin):
    cluster, grant = granted
    topic = grant.topic.name
    stranger = f"u.elsewhere-{unique}.a"  # another installation's user, under the same prefix, on a managed topic
    theirs = [AclBinding(f"User:{stranger}", ResourceType.TOPIC, topic, PatternType.LITERAL, Operation.WRITE),
              AclBinding(f"User:{stranger}", ResourceType.TOPIC, topic, PatternType.LITERAL, Operation.READ,
                         Permission.DENY)]
    monitoring = AclBinding(f"User:monitoring-{unique}", ResourceType.TOPIC, topic, PatternType.LITERAL,
                            Operation.ALL)
    intruder = AclBinding(f"User:intruder-{unique}", ResourceType.TOPIC, topic, PatternType.LITERAL, Operation.ALL)
    create_acls_visibly(kafka_admin, [*theirs, monitoring, intruder])
    kafka_admin.upsert_scram_credentials([ScramUpsert(stranger, "another-installations-password")])
    KafkaCluster.objects.filter(pk=cluster.pk).update(read_allowlist=f"User:monitoring-{unique}\n")
    cluster.refresh_from_db()

    outcome = reconcile(cluster)

    run = outcome.run
    on_broker = set(kafka_admin.describe_acls(resource_name=topic))
    assert set(theirs) | {monitoring} <= on_broker and intruder not in on_broker
    assert stranger in kafka_admin.describe_scram_users([stranger])
    assert run.status == RunStatus.SUCCEEDED
    drift = " ".join(run.drift["foreign_acls"])
    assert f"User:monitoring-{unique}" in drift and f"User:intruder-{unique}" in drift
    assert theirs[1] in outcome.plan.unmanaged_acls  # reported, not deleted


def test_objects_made_before_ownership_was_recorded_are_adopted_and_cleaned_up(
        granted, kafka_admin, settings):
    cluster, grant = granted
    user = username_of(grant)
    bindings = set(read_bindings(user, grant.topic.name))
    # an installation from before the records: what it made is on the broker, nothing says it is Logwarden's
    OwnedAclBinding.objects.filter(cluster=cluster).delete()
    OwnedScramUser.objects.filter(cluster=cluster).delete()
    # a database of its own, so another version of the records than the one this process has a copy of
    KafkaCluster.objects.filter(pk=cluster.pk).update(ownership_adopted_at=None,
                                                      ownership_version=new_ownership_version())
    cluster.refresh_from_db()
    retired_slot = f"{grant.principal.name}.b"  # a slot rotated away from, left on the broker
    kafka_admin.upsert_scram_credentials([ScramUpsert(retired_slot, "an-old-password")])
    expire(grant)
    settings.KAFKA = {**settings.KAFKA, "scram_describe_batch": 2}  # several batches of candidate users

    first = reconcile(cluster)

    assert not bindings & set(kafka_admin.describe_acls(principal=f"User:{user}"))
    assert not kafka_admin.describe_scram_users([retired_slot, user]) - {user}
    assert retired_slot in first.plan.delete_users
    assert AuditEvent.objects.filter(action="cluster.adopt_ownership", target_id=str(cluster.pk)).exists()
    assert first.run.status == RunStatus.SUCCEEDED
    adoptions = AuditEvent.objects.filter(action="cluster.adopt_ownership").count()
    second = reconcile(cluster)
    assert second.plan.writes == 0 and second.run.status == RunStatus.SUCCEEDED
    assert AuditEvent.objects.filter(action="cluster.adopt_ownership").count() == adoptions  # once per cluster
