"""The shipper's own broker identity shipper.<fleet>: provisioned by the one reconciler with WRITE + DESCRIBE on the
managed topics only, its quarantine topic made by the topic sync and granted only to admins and auditors, its
password in the fleet's Secret and nowhere else, rotated onto a new Secret that the pods roll onto, the old one
deleted once the overlap ends. Real broker and API server; reconciles run inline."""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from shipper.fleet import credentials, services
from shipper.fleet.manifests import object_name
from tests.api_clients import client_as
from tests.fleet_helpers import make_fleet
from tests.helpers import eventually, events
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.kafka.types import AclBinding, Operation, PatternType, ResourceType
from topics.models import CredentialState, KafkaCredential, KafkaPrincipal, Topic, TopicState
from topics.provisioning import system_principals
from topics.provisioning.principals import principal_for
from topics.provisioning.reconciler import reconcile

pytestmark = pytest.mark.django_db


def test_the_shipper_role_writes_and_describes_managed_topics_and_nothing_else():
    found = credentials.bindings(None, frozenset({"shipper.f.a"}), frozenset({"logs.a", "logs.quarantine"}))
    assert found == {AclBinding("User:shipper.f.a", ResourceType.TOPIC, topic, PatternType.LITERAL, operation)
                     for topic in ("logs.a", "logs.quarantine") for operation in (Operation.WRITE, Operation.DESCRIBE)}


def test_a_new_fleet_has_its_principal_and_its_quarantine_topic(world, unique):
    fleet = make_fleet(unique)

    principal = KafkaPrincipal.objects.get(name=f"shipper.{fleet.name}")
    assert principal.system_role == "shipper" and principal.user is None
    assert KafkaCredential.objects.get(principal=principal).state == CredentialState.PENDING
    quarantine = Topic.objects.get(cluster=fleet.kafka_cluster, name=fleet.quarantine_topic)
    assert quarantine.namespace.quarantine and quarantine.namespace.sensitivity == "restricted"
    assert fleet.revisions.get().routes.get(quarantine.namespace.name) is None, "nobody's logs route there"
    make_fleet(f"{unique}2")  # a second fleet shares the quarantine topic of the same name
    assert Topic.objects.filter(name=fleet.quarantine_topic, cluster=fleet.kafka_cluster).count() == 1


def test_a_fleet_that_drops_unrouted_records_has_no_quarantine_topic(world, unique):
    make_fleet(unique, unrouted="drop", quarantine_topic=f"logs.q-{unique}")
    assert not Topic.objects.filter(name=f"logs.q-{unique}").exists()


def test_a_namespace_s_topic_cannot_be_a_quarantine(world, unique):
    fleet = make_fleet(unique)
    topic = catalogue.register_namespace(SYSTEM, name=f"pay-{unique}", owner_team=world.payments).topics.get()
    with pytest.raises(ValidationError, match="not a quarantine"):
        services.update_fleet(world.admin, fleet, reason="reuse", quarantine_topic=topic.name)
    services.update_fleet(world.admin, fleet, reason="a topic of its own", quarantine_topic=f"logs.q-{unique}")
    assert Topic.objects.get(name=f"logs.q-{unique}").namespace.quarantine


def test_only_admins_and_auditors_may_be_granted_the_quarantine_topic(world, unique):
    fleet = make_fleet(unique)
    quarantine = Topic.objects.get(name=fleet.quarantine_topic, cluster=fleet.kafka_cluster)
    engineer = principal_for(world.engineer)

    with pytest.raises(ValidationError, match="only platform admins and auditors may be granted it"):
        access.grant_directly(world.admin, principal=engineer, topic=quarantine, days=1, reason="debugging")
    with pytest.raises(ValidationError, match="only platform admins and auditors may be granted it"):
        access.create_request(world.engineer, principal=engineer, namespaces=[quarantine.namespace],
                              reason="curious", duration_days=1)

    grant = access.grant_directly(world.admin, principal=principal_for(world.auditor), topic=quarantine, days=1,
                                  reason="find whose logs land here")
    assert grant.topic == quarantine


@pytest.fixture
def provisioned(world, unique, kubeconfig, settings, celery_eager, django_capture_on_commit_callbacks):
    """A fleet on the real API server whose principal and quarantine topic the reconciler made on the broker."""
    settings.KUBECONFIG = kubeconfig
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"shp-{unique}", owner_team=world.payments)
    with django_capture_on_commit_callbacks(execute=True):
        fleet = make_fleet(unique, world.admin, quarantine_topic=f"logs.quarantine-{unique}")
    fleet.refresh_from_db()
    return SimpleNamespace(fleet=fleet, topic=namespace.topics.get())


def secret(kube_cluster, fleet, slot: str) -> dict | None:
    return kube_cluster.get("v1", "Secret", f"{object_name(fleet.name)}-kafka-{slot}", fleet.kube_namespace)


def secret_refs(kube_cluster, fleet) -> set[str]:
    daemon_set = kube_cluster.get("apps/v1", "DaemonSet", object_name(fleet.name), fleet.kube_namespace)
    return {env["valueFrom"]["secretKeyRef"]["name"] for env in
            daemon_set["spec"]["template"]["spec"]["containers"][0]["env"] if "secretKeyRef" in env["valueFrom"]}


@pytest.mark.kafka
@pytest.mark.kube
def test_the_reconciler_provisions_the_shipper_with_write_on_managed_topics_only(provisioned, kafka_admin):
    fleet = provisioned.fleet
    username = f"{fleet.principal_name}.a"
    assert kafka_admin.describe_scram_users([username]) == {username}
    quarantine = Topic.objects.get(name=fleet.quarantine_topic)
    assert quarantine.state == TopicState.READY, "the topic sync made the quarantine topic on the broker"
    acls = eventually(lambda: {(b.resource_type, b.resource_name, b.operation)
                               for b in kafka_admin.describe_acls(principal=f"User:{username}")},
                      lambda found: (ResourceType.TOPIC, fleet.quarantine_topic, Operation.WRITE) in found,
                      "the shipper's ACLs")
    assert {operation for _, _, operation in acls} == {Operation.WRITE, Operation.DESCRIBE}
    assert {kind for kind, _, _ in acls} == {ResourceType.TOPIC}, "no consumer groups"
    assert {(ResourceType.TOPIC, topic, op) for topic in (provisioned.topic.name, fleet.quarantine_topic)
            for op in (Operation.WRITE, Operation.DESCRIBE)} <= acls


@pytest.mark.kafka
@pytest.mark.kube
def test_the_password_reaches_the_cluster_only_in_the_secret_and_rotation_rolls_the_pods_onto_a_new_one(
        provisioned, world, kube_cluster, caplog, django_capture_on_commit_callbacks):
    fleet = provisioned.fleet
    caplog.set_level(logging.DEBUG)
    services.refresh_and_enforce(fleet)  # the catalogue's receivers may have refreshed already
    assert services.secret_credential(services.latest_revision(fleet)) == (f"{fleet.principal_name}.a", "kept")
    first = services.apply(SYSTEM, fleet).revision.number
    password = system_principals.client_settings(fleet.principal_name, fleet.kafka_cluster)["sasl.password"]
    stored = secret(kube_cluster, fleet, "a")
    assert set(stored["data"]) == {"username", "password"}
    assert secret_refs(kube_cluster, fleet) == {f"{object_name(fleet.name)}-kafka-a"}

    with django_capture_on_commit_callbacks(execute=True):
        credentials.rotate(fleet, overlap=timedelta(hours=1))
    fleet.refresh_from_db()
    before = fleet.live_revision.content_hash
    number = services.refresh_and_enforce(fleet)  # the periodic pass: not an enforcing fleet, applied anyway
    fleet.refresh_from_db()
    assert fleet.live_revision.number == number and fleet.live_revision.content_hash != before
    assert "credential rotated to" in fleet.live_revision.reason
    new_password = system_principals.client_settings(fleet.principal_name, fleet.kafka_cluster)["sasl.password"]
    assert new_password != password
    assert set(secret(kube_cluster, fleet, "b")["data"]) == {"username", "password"}
    assert secret_refs(kube_cluster, fleet) == {f"{object_name(fleet.name)}-kafka-b"}, "the pods roll onto it"
    assert secret(kube_cluster, fleet, "a") is not None, "the old slot's Secret stays through the overlap"

    KafkaCredential.objects.filter(principal__name=fleet.principal_name, state=CredentialState.RETIRING).update(
        retire_at=timezone.now() - timedelta(seconds=1))
    reconcile(fleet.kafka_cluster, trigger="periodic")
    services.check_drift(fleet)
    assert secret(kube_cluster, fleet, "a") is None, "retired with its slot"
    assert AuditEvent.objects.filter(action="fleet.secret_retire", data__kube_object__endswith="-kafka-a").exists()

    services.rollback(world.admin, fleet, fleet.revisions.get(number=first), reason="back to the old config")
    assert secret_refs(kube_cluster, fleet) == {f"{object_name(fleet.name)}-kafka-b"}, \
        "a rollback keeps the live credential, not the retired slot of its revision"
    assert secret(kube_cluster, fleet, "a") is None

    client = Client()
    client.force_login(world.admin)
    pages = [client.get(f"/fleets/{fleet.name}/").content.decode()]
    pages += [client.get(f"/fleets/{fleet.name}/revisions/{revision.number}/").content.decode()
              for revision in fleet.revisions.all()]
    config_map = kube_cluster.get("v1", "ConfigMap", f"{object_name(fleet.name)}-config", fleet.kube_namespace)
    everything = [json.dumps(list(AuditEvent.objects.values_list("data", flat=True))), caplog.text,
                  json.dumps(config_map), *pages,
                  *(json.dumps([r.config, r.manifests]) for r in fleet.revisions.all())]
    for secret_value in (password, new_password):
        assert not [text[:80] for text in everything if secret_value in text]


@pytest.mark.kafka
@pytest.mark.kube
def test_admins_rotate_the_shipper_s_credential_from_the_api_and_the_page_and_nobody_else(
        provisioned, world, django_capture_on_commit_callbacks):
    fleet = provisioned.fleet
    url = f"/api/fleets/{fleet.name}/rotate-credential/"
    assert client_as(world, "auditor").post(url, {"overlap_hours": 2}, format="json").status_code == 403
    assert client_as(world, "engineer").post(url, {"overlap_hours": 2}, format="json").status_code in (403, 404)
    bad = client_as(world, "admin").post(url, {"overlap_hours": 0}, format="json")
    assert bad.status_code == 400 and "overlap_hours" in bad.json()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(world, "admin").post(url, {"overlap_hours": 2}, format="json")
    assert response.status_code == 202, response.content
    assert response.json() == {"username": f"{fleet.principal_name}.b", "state": "pending", "overlap_hours": 2}
    (event,) = events("fleet.rotate_credential")
    assert event.data == {"username": f"{fleet.principal_name}.b", "overlap_hours": 2}

    page = Client()
    page.force_login(world.admin)
    html = page.get(f"/fleets/{fleet.name}/").content.decode()
    assert f"{fleet.principal_name}.b" in html and "Rotate the credential" in html
    again = page.post(f"/fleets/{fleet.name}/rotate-credential/", {"overlap_hours": 1}, follow=True).content.decode()
    assert "Not rotated" in again and "already under way" in again
    auditor = Client()
    auditor.force_login(world.auditor)
    assert "Rotate the credential" not in auditor.get(f"/fleets/{fleet.name}/").content.decode()
    assert auditor.post(f"/fleets/{fleet.name}/rotate-credential/", {"overlap_hours": 1}).status_code == 403
