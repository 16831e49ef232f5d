"""Request → approval → grant → provisioned, end to end on the real broker, and back off it: on revocation and
expiry, and when a namespace is retired or a service account disabled; reconciles that write nothing twice,
survive outages, and leave alone what Logwarden does not own."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.services import service_accounts
from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.factories import approve, ask, person
from tests.helpers import create_acls_visibly
from topics import policy
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.catalogue.clusters import default_cluster
from topics.kafka.adapter import produce, read_records
from topics.kafka.errors import KafkaAuthorizationError, KafkaUnavailable
from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType, ScramUpsert
from topics.models import Grant, GrantState, KafkaCluster, KafkaCredential, ReconcileRun
from topics.provisioning import handoff
from topics.provisioning.principals import principal_for
from topics.provisioning.reconciler import reconcile
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


def provisioned(world, namespace, capture):
    """alice asks for the namespace, bob approves, and the reconcile provisions: her principal and credential."""
    request = ask(world, namespace)
    with capture(execute=True):
        approve(world, request)
    principal = principal_for(world.engineer)
    return principal, KafkaCredential.objects.get(principal=principal)


def connect(kafka_connection, credential):
    return kafka_connection.as_user(credential.username, handoff.claim(credential))


def test_approved_request_lets_the_principal_read_its_topic_and_nothing_else(
        world, namespaces, kafka_connection, django_capture_on_commit_callbacks):
    mine, other = namespaces
    principal, credential = provisioned(world, mine, django_capture_on_commit_callbacks)
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
    principal, credential = provisioned(world, mine, django_capture_on_commit_callbacks)
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
    provisioned(world, mine, django_capture_on_commit_callbacks)
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


# --- changes elsewhere take ACLs off the broker -------------------------------------------------------------

def test_retiring_a_namespace_takes_its_acls_off_the_broker_and_closes_it_to_decisions(
        world, unique, kafka_admin, celery_eager, django_capture_on_commit_callbacks):
    reader = person(f"r{unique}", "team-payments")
    with django_capture_on_commit_callbacks(execute=True):
        retiring = catalogue.register_namespace(SYSTEM, name=f"old-{unique}", owner_team=world.payments)
        access.grant_directly(world.admin, principal=principal_for(reader), topic=retiring.topics.get(), days=1,
                              reason="before retirement")
    topic = retiring.topics.get().name
    assert kafka_admin.describe_acls(resource_name=topic)
    item = ask(world, retiring).items.get()

    with django_capture_on_commit_callbacks(execute=True):
        catalogue.retire_namespace(world.admin, retiring, reason="decommissioned")

    assert not kafka_admin.describe_acls(resource_name=topic)
    item.refresh_from_db()
    assert not policy.may_decide(world.owner, item)
    with pytest.raises(ValidationError, match="namespace retired"):
        access.decide(world.owner, item, "approve", "late")
    with pytest.raises(PermissionDenied):  # who may not decide still hears so
        access.decide(world.outsider, item, "approve", "late")


def test_a_disabled_service_accounts_acls_leave_the_broker(world, unique, kafka_admin, celery_eager,
                                                          django_capture_on_commit_callbacks):
    account = service_accounts.create(SYSTEM, name=f"etl-{unique}", team=world.payments)
    olga = person("olga", "team-checkout", "logwarden-owners")
    with django_capture_on_commit_callbacks(execute=True):
        shared = catalogue.register_namespace(SYSTEM, name=f"sa-off-{unique}", owner_team=world.checkout)
    request = ask(world, shared, principal_user=account.user)
    with django_capture_on_commit_callbacks(execute=True):
        access.decide(olga, request.items.get(), "approve", "nightly export")
    username = KafkaCredential.objects.get(principal__user=account.user).username
    assert kafka_admin.describe_acls(principal=f"User:{username}")

    with django_capture_on_commit_callbacks(execute=True):
        service_accounts.set_active(world.admin, account, False)

    assert not kafka_admin.describe_acls(principal=f"User:{username}")


# --- the periodic pass ----------------------------------------------------------------------------------------

def test_the_periodic_pass_goes_on_past_a_cluster_that_fails(world, settings, kafka_admin, celery_eager):
    settings.KAFKA = {**settings.KAFKA, "timeout_seconds": 2}
    default_cluster()
    KafkaCluster.objects.create(name="unreachable", bootstrap="127.0.0.1:1", sasl_username="admin",
                                sasl_password_ref="env:KAFKA_SASL_PASSWORD")

    results = reconcile_all()

    assert "KAFKA_BOOTSTRAP=127.0.0.1:1" in results["unreachable"]["error"]
    assert "create_acls" in results["default"]  # the real cluster was reconciled all the same
    assert ReconcileRun.objects.get(cluster__name="unreachable").succeeded is False
