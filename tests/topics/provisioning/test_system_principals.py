"""System principals: Logwarden's own broker identities, provisioned by the one reconciler from a registered role,
connecting with a kept password, rotated by the system with two slots, out of every user's reach.

The broker tests run the reconciles inline (celery_eager, on-commit callbacks executed) against the real broker;
the reach tests stop before the broker (a pending credential is all they need)."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.api_clients import client_as
from tests.helpers import eventually
from topics import policy
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.catalogue.clusters import default_cluster
from topics.kafka.adapter import produce, read_records
from topics.kafka.errors import KafkaAuthorizationError, KafkaUnavailable
from topics.kafka.types import Operation, PatternType, ResourceType
from topics.models import (CredentialHandoff, CredentialState, KafkaCredential, KafkaPrincipal, OwnedAclBinding,
                           OwnedScramUser, SystemCredentialSecret)
from topics.provisioning import credentials, system_principals, system_roles
from topics.provisioning.principals import requestable_principals
from topics.provisioning.reconciler import reconcile

pytestmark = pytest.mark.django_db


@pytest.fixture
def role(unique):
    """A test role: READ + DESCRIBE on the managed topics it is told to read, and its own consumer groups."""
    readable: set[str] = set()
    name = f"test-reader-{unique}"
    system_roles.register(name, consumer_groups=True, bindings=lambda cluster, usernames, topics: (
        system_roles.topic_bindings(usernames, topics & readable, [Operation.READ, Operation.DESCRIBE])))
    yield SimpleNamespace(name=name, readable=readable, principal=f"portal.r{unique}")
    system_roles.unregister(name)


@pytest.fixture
def provisioned(world, role, unique, kafka_connection, celery_eager, django_capture_on_commit_callbacks):
    """The role's principal ensured on the default cluster and reconciled; it may read one of two fresh topics,
    each holding one record."""
    with django_capture_on_commit_callbacks(execute=True):
        allowed = catalogue.register_namespace(SYSTEM, name=f"spa-{unique}", owner_team=world.payments).topics.get()
        other = catalogue.register_namespace(SYSTEM, name=f"spb-{unique}", owner_team=world.payments).topics.get()
    role.readable.add(allowed.name)
    for topic in (allowed, other):
        produce(kafka_connection, topic.name, [f"record of {topic.name}".encode()])
    with django_capture_on_commit_callbacks(execute=True):
        principal = system_principals.ensure(role.principal, role.name, allowed.cluster)
    return SimpleNamespace(principal=principal, cluster=allowed.cluster, allowed=allowed, other=other)


def broker_acls(kafka_admin, username: str) -> set[tuple]:
    return {(b.resource_type, b.resource_name, b.pattern_type, b.operation)
            for b in kafka_admin.describe_acls(principal=f"User:{username}")}


@pytest.mark.kafka
def test_a_registered_role_gets_its_user_and_acls_and_connects_with_its_kept_password(
        provisioned, role, kafka_admin):
    credential = KafkaCredential.objects.get(principal=provisioned.principal)
    assert credential.state == CredentialState.ACTIVE and credential.username == f"{role.principal}.a"
    assert kafka_admin.describe_scram_users([credential.username]) == {credential.username}
    assert eventually(lambda: broker_acls(kafka_admin, credential.username), bool, "the role's ACLs") == {
        (ResourceType.TOPIC, provisioned.allowed.name, PatternType.LITERAL, Operation.READ),
        (ResourceType.TOPIC, provisioned.allowed.name, PatternType.LITERAL, Operation.DESCRIBE),
        (ResourceType.GROUP, f"{role.principal}.", PatternType.PREFIXED, Operation.READ)}
    # kept for the portal, never handed to anyone
    assert SystemCredentialSecret.objects.filter(credential=credential).exists()
    assert not CredentialHandoff.objects.filter(credential=credential).exists()
    assert {"principal.create", "credential.create", "scram_user.create", "acl.create"} <= set(
        AuditEvent.objects.filter(target_label__contains=role.principal).values_list("action", flat=True))

    connection = system_principals.connection(role.principal, provisioned.cluster)
    assert connection.username == credential.username and connection.password not in repr(connection)
    settings = system_principals.client_settings(role.principal, provisioned.cluster)
    assert settings["sasl.username"] == credential.username and settings["sasl.mechanism"] == "SCRAM-SHA-512"
    assert read_records(connection, provisioned.allowed.name, group=f"{role.principal}.reader") == [
        f"record of {provisioned.allowed.name}".encode()]
    with pytest.raises(KafkaAuthorizationError):
        read_records(connection, provisioned.other.name, group=f"{role.principal}.reader")


@pytest.mark.kafka
def test_ensure_is_idempotent_and_a_second_reconcile_changes_nothing(provisioned, role,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = system_principals.ensure(role.principal, role.name, provisioned.cluster)
    assert again == provisioned.principal and callbacks == []  # nothing pending: no reconcile queued
    assert KafkaCredential.objects.filter(principal=again).count() == 1
    assert reconcile(provisioned.cluster, dry_run=True).plan.empty


@pytest.mark.kafka
def test_rotation_moves_the_connection_to_the_new_slot_and_retires_the_old_after_the_overlap(
        provisioned, role, django_capture_on_commit_callbacks):
    old = system_principals.connection(role.principal, provisioned.cluster)
    with django_capture_on_commit_callbacks(execute=True):
        new_credential = system_principals.rotate(role.principal, provisioned.cluster, overlap=timedelta(hours=1))
    new_credential.refresh_from_db()
    assert new_credential.state == CredentialState.ACTIVE
    new = system_principals.connection(role.principal, provisioned.cluster)
    assert new.username == new_credential.username != old.username and new.password != old.password
    expected = [f"record of {provisioned.allowed.name}".encode()]
    for connection in (new, old):  # the overlap: both slots work, with the principal's consumer groups
        assert read_records(connection, provisioned.allowed.name,
                            group=f"{role.principal}.{connection.username[-1]}") == expected
    assert AuditEvent.objects.filter(action="credential.rotate", data__trigger="system").exists()

    KafkaCredential.objects.filter(principal=provisioned.principal, state=CredentialState.RETIRING).update(
        retire_at=timezone.now() - timedelta(seconds=1))
    reconcile(provisioned.cluster, trigger="periodic")
    assert SystemCredentialSecret.objects.filter(credential__principal=provisioned.principal).count() == 1
    with pytest.raises(KafkaUnavailable, match="refused the credentials"):
        read_records(old, provisioned.allowed.name, group=f"{role.principal}.rotation")
    assert read_records(new, provisioned.allowed.name, group=f"{role.principal}.after") == expected


@pytest.mark.kafka
def test_a_deleted_registration_s_principal_leaves_the_broker(provisioned, role, kafka_admin):
    username = KafkaCredential.objects.get(principal=provisioned.principal).username
    system_roles.unregister(role.name)
    reconcile(provisioned.cluster, trigger="periodic")

    assert KafkaCredential.objects.get(principal=provisioned.principal).state == CredentialState.REMOVED
    assert not SystemCredentialSecret.objects.filter(credential__principal=provisioned.principal).exists()
    assert kafka_admin.describe_scram_users([username]) == set()
    assert eventually(lambda: broker_acls(kafka_admin, username), lambda acls: not acls, "no ACLs left") == set()
    assert not OwnedAclBinding.objects.filter(principal=f"User:{username}").exists()
    assert not OwnedScramUser.objects.filter(username=username).exists()
    assert AuditEvent.objects.filter(action="credential.remove", target_label=username).exists()
    with pytest.raises(system_principals.SystemCredentialUnavailable):
        system_principals.connection(role.principal, provisioned.cluster)


# --- out of every user's reach (no broker) -----------------------------------------------------------------

@pytest.fixture
def pending(world, role):
    """The role's principal with its pending credential (the reconcile it queues is not run)."""
    cluster = default_cluster()
    namespace = catalogue.register_namespace(SYSTEM, name="sp-reach", owner_team=world.payments)
    principal = system_principals.ensure(role.principal, role.name, cluster)
    return SimpleNamespace(principal=principal, cluster=cluster, topic=namespace.topics.get(),
                           credential=KafkaCredential.objects.get(principal=principal))


def test_nobody_requests_is_granted_rotates_or_sees_the_password_of_a_system_principal(world, pending):
    for role in ("engineer", "owner", "auditor", "admin", "outsider"):
        who = world.user_for(role)
        assert pending.principal.name not in {p.name for p in requestable_principals(who)}
        assert not policy.may_act_as(who, pending.principal)
        assert not policy.may_manage_credentials(who, pending.principal)
        assert not policy.may_see_password(who, pending.principal)
        assert pending.credential not in policy.credentials_visible_to(who)
    with pytest.raises(ValidationError) as refused:
        access.create_request(world.admin, principal=pending.principal, namespaces=[pending.topic.namespace],
                              reason="take over", duration_days=1)
    assert "principal" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        access.grant_directly(world.admin, principal=pending.principal, topic=pending.topic, days=1, reason="x")
    assert "principal" in refused.value.error_dict
    for trigger in ("holder", "forced"):
        with pytest.raises(PermissionDenied):
            credentials.rotate(world.admin, pending.principal, pending.cluster, overlap=timedelta(hours=1),
                               trigger=trigger)
    with pytest.raises(PermissionDenied):
        credentials.show_password(world.admin, pending.credential)
    assert KafkaCredential.objects.filter(principal=pending.principal).count() == 1


def test_the_api_and_pages_refuse_every_user_action_on_a_system_principal(world, pending):
    admin = client_as(world, "admin")
    pk = pending.credential.pk
    assert pk not in {row["id"] for row in admin.get("/api/credentials/").json()["results"]}
    assert admin.post(f"/api/credentials/{pk}/show-password/").status_code == 404
    assert admin.get(f"/api/credentials/{pk}/client-config/").status_code == 404
    rotated = admin.post("/api/credentials/rotate/", {"principal": pending.principal.name, "cluster": "default",
                                                     "overlap_hours": 1, "force": True}, format="json")
    assert rotated.status_code == 403, rotated.content
    granted = admin.post("/api/grants/", {"principal": pending.principal.name, "namespace": "sp-reach", "days": 1,
                                          "reason": "x"}, format="json")
    assert granted.status_code == 400 and "principal" in granted.json(), granted.content
    page = Client()
    page.force_login(world.admin)
    assert page.post(f"/access/credentials/{pk}/password/").status_code == 403
    assert page.get(f"/access/credentials/{pk}/rotate/").status_code == 404
    assert KafkaCredential.objects.filter(principal=pending.principal).count() == 1
    assert not CredentialHandoff.objects.exists()


@pytest.mark.parametrize(("viewer", "listed"), [("admin", True), ("auditor", True), ("engineer", None)])
def test_admins_and_auditors_see_system_principals_listed_with_their_state(world, pending, viewer, listed):
    page = Client()
    page.force_login(world.user_for(viewer))
    response = page.get("/access/reconcile/")
    if listed is None:
        assert response.status_code == 403
        return
    text = response.content.decode()
    assert response.status_code == 200
    assert f"{pending.principal.name}.a" in text and pending.principal.system_role in text


def test_a_system_principal_needs_a_registered_role_and_a_system_name(world, role):
    cluster = default_cluster()
    for name, role_name, field in [("u.alice", role.name, "name"), ("portal.a.b", role.name, "name"),
                                   ("shipper.Fleet", role.name, "name"), ("portal.ok", "no-such-role", "role")]:
        with pytest.raises(ValidationError) as refused:
            system_principals.ensure(name, role_name, cluster)
        assert field in refused.value.error_dict, name
    system_principals.ensure("shipper.fleet-1", role.name, cluster)
    with pytest.raises(ValueError, match="already registered"):
        system_roles.register(role.name, bindings=lambda *_: set())


def test_a_principal_has_exactly_one_of_a_user_or_a_system_role(world):
    for fields in ({"name": "portal.none"}, {"name": "u.both", "user": world.engineer, "system_role": "x"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            KafkaPrincipal.objects.create(**fields)
