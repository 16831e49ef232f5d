"""The catalogue API (clusters, retention classes, namespaces, topics) — who may do what, filters, what bad
input gets, and the audit trail every change leaves. Against the real PostgreSQL.

Registering a namespace enqueues its topic sync on commit; these tests run in a transaction that is rolled
back, so no sync runs and the broker is not touched."""
from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from portal.models import AuditEvent
from tests.api_clients import assert_allowed_as_expected, client_as, matrix
from tests.factories import topic_of
from tests.helpers import events
from topics.models import KafkaCluster, Lifecycle, Namespace, RetentionClass, Topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(world):
    """A cluster with a dot in its name holding payments' topic, an unused cluster and an unused class."""
    eu = KafkaCluster.objects.create(name="eu-prod", bootstrap="kafka-eu-1:9092,kafka-eu-2:9092",
                                     sasl_username="logwarden", sasl_password_ref="env:KAFKA_SASL_PASSWORD")
    return SimpleNamespace(
        eu=eu, spare=KafkaCluster.objects.create(name="spare", bootstrap="kafka-spare:9092"),
        topic=topic_of(world.ns_payments, eu),
        scratch=RetentionClass.objects.create(name="scratch", retention_ms=3_600_000),
    )


# --- authorization matrix ----------------------------------------------------------------------------------
# statuses in ROLES order: engineer, owner, auditor, admin, outsider, service_account, anonymous

REQUESTS = {
    "cluster-list": lambda c: ("get", "/api/clusters/", None),
    "cluster-retrieve": lambda c: ("get", "/api/clusters/eu-prod/", None),
    "cluster-create": lambda c: ("post", "/api/clusters/", {"name": "us-prod", "bootstrap": "kafka-us:9092"}),
    "cluster-update": lambda c: ("patch", "/api/clusters/eu-prod/", {"enforce_acls": False}),
    "cluster-delete": lambda c: ("delete", "/api/clusters/spare/", None),
    "retention-list": lambda c: ("get", "/api/retention-classes/", None),
    "retention-retrieve": lambda c: ("get", "/api/retention-classes/standard/", None),
    "retention-create": lambda c: ("post", "/api/retention-classes/", {"name": "two-weeks",
                                                                        "retention_ms": 14 * 86_400_000}),
    "retention-update": lambda c: ("patch", "/api/retention-classes/standard/", {"retention_ms": 86_400_000}),
    "retention-delete": lambda c: ("delete", "/api/retention-classes/scratch/", None),
    "namespace-list": lambda c: ("get", "/api/namespaces/", None),
    "namespace-retrieve": lambda c: ("get", "/api/namespaces/checkout/", None),
    "namespace-register": lambda c: ("post", "/api/namespaces/", {"name": "search", "owner_team": "checkout"}),
    "namespace-update": lambda c: ("patch", "/api/namespaces/payments/", {"sensitivity": "restricted"}),
    "namespace-retire": lambda c: ("post", "/api/namespaces/payments/retire/", {"reason": "moved to payments-v2"}),
    "namespace-delete": lambda c: ("delete", "/api/namespaces/payments/", None),
    # payments has an owner already: an admin's confirmation is refused as input, everyone else's before it
    "namespace-confirm-owner": lambda c: ("post", "/api/namespaces/payments/confirm-owner/", None),
    "topic-list": lambda c: ("get", "/api/topics/", None),
    "topic-retrieve": lambda c: ("get", f"/api/topics/{c.topic.pk}/", None),
    "topic-create": lambda c: ("post", "/api/topics/", {"name": "logs.x"}),
}

MATRIX = {
    "cluster-list": (403, 403, 200, 200, 403, 403, 401),
    "cluster-retrieve": (403, 403, 200, 200, 403, 403, 401),
    "cluster-create": (403, 403, 403, 201, 403, 403, 401),
    "cluster-update": (403, 403, 403, 200, 403, 403, 401),
    "cluster-delete": (403, 403, 403, 204, 403, 403, 401),
    "retention-list": (200, 200, 200, 200, 200, 200, 401),
    "retention-retrieve": (200, 200, 200, 200, 200, 200, 401),
    "retention-create": (403, 403, 403, 201, 403, 403, 401),
    "retention-update": (403, 403, 403, 200, 403, 403, 401),
    "retention-delete": (403, 403, 403, 204, 403, 403, 401),
    "namespace-list": (200, 200, 200, 200, 200, 200, 401),
    "namespace-retrieve": (200, 200, 200, 200, 200, 200, 401),
    "namespace-register": (403, 403, 403, 201, 403, 403, 401),
    "namespace-update": (403, 403, 403, 200, 403, 403, 401),
    "namespace-retire": (403, 403, 403, 200, 403, 403, 401),
    "namespace-delete": (403, 403, 403, 405, 403, 403, 401),  # retire instead
    "namespace-confirm-owner": (403, 403, 403, 400, 403, 403, 401),
    "topic-list": (200, 200, 200, 200, 200, 200, 401),
    "topic-retrieve": (200, 200, 200, 200, 200, 200, 401),
    "topic-create": (403, 403, 403, 405, 403, 403, 401),  # topics follow namespaces
}


@pytest.mark.parametrize(("action", "role", "expected"), matrix(MATRIX))
def test_authorization_matrix(world, catalogue, action, role, expected):
    assert_allowed_as_expected(world, role, REQUESTS[action](catalogue), expected)


# --- clusters ----------------------------------------------------------------------------------------------

def test_cluster_shows_where_its_password_is_never_the_password(world, catalogue):
    admin = client_as(world, "admin")

    shown = admin.get("/api/clusters/eu-prod/")
    created = admin.post("/api/clusters/", {"name": "us-prod", "bootstrap": "kafka-us:9092",
                                            "sasl_username": "logwarden", "sasl_password": "hunter2-secret",
                                            "sasl_password_ref": "env:KAFKA_US_PASSWORD"}, format="json")

    assert shown.json()["sasl_password_ref"] == "env:KAFKA_SASL_PASSWORD"
    assert [key for key in shown.json() if "password" in key] == ["sasl_password_ref"]
    assert os.environ["KAFKA_SASL_PASSWORD"] not in shown.content.decode()
    assert created.status_code == 201 and "hunter2-secret" not in created.content.decode()
    assert not [e for e in AuditEvent.objects.all() if "hunter2-secret" in json.dumps(e.data)]
    [event] = events("kafka_cluster.create")
    assert event.actor_label == "dave" and event.data["bootstrap"] == "kafka-us:9092"


def test_cluster_changes_are_audited(world, catalogue):
    admin = client_as(world, "admin")

    admin.patch("/api/clusters/eu-prod/", {"replication_factor": 3, "name": "renamed"}, format="json")
    admin.delete("/api/clusters/spare/")

    assert events("kafka_cluster.update")[0].data == {"changes": {"replication_factor": {"from": 1, "to": 3}}}
    assert events("kafka_cluster.delete")[0].target_label == "spare"
    assert KafkaCluster.objects.filter(name="eu-prod").exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "eu-prod", "bootstrap": "x:9092"}, "name"),
    ({"name": "eu.prod/2", "bootstrap": "x:9092"}, "name"),  # not usable in a URL
    ({"name": "bad-ref", "bootstrap": "x:9092", "sasl_password_ref": "hunter2"}, "sasl_password_ref"),
    ({"name": "bad-template", "bootstrap": "x:9092", "topic_name_template": "logs"}, "topic_name_template"),
    ({"name": "bad-protocol", "bootstrap": "x:9092", "security_protocol": "CARRIER_PIGEON"}, "security_protocol"),
    ({"name": "second-default", "bootstrap": "x:9092", "is_default": True}, "is_default"),  # one default only
    ({"name": "bad-allowlist", "bootstrap": "x:9092", "read_allowlist": "monitoring"}, "read_allowlist"),
])
def test_bad_cluster_input_is_refused_by_field(world, catalogue, body, field):
    KafkaCluster.objects.filter(name="spare").update(is_default=True)
    clusters, audited = KafkaCluster.objects.count(), AuditEvent.objects.count()

    response = client_as(world, "admin").post("/api/clusters/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert (KafkaCluster.objects.count(), AuditEvent.objects.count()) == (clusters, audited)


def test_only_one_cluster_is_the_default(world, catalogue):
    admin = client_as(world, "admin")
    admin.patch("/api/clusters/spare/", {"is_default": True}, format="json")

    another = admin.post("/api/clusters/", {"name": "us-prod", "bootstrap": "x:9092"}, format="json")
    second = admin.patch("/api/clusters/eu-prod/", {"is_default": True}, format="json")

    assert another.status_code == 201 and another.json()["is_default"] is False
    assert second.status_code == 400 and "is_default" in second.json()
    assert list(KafkaCluster.objects.filter(is_default=True).values_list("name", flat=True)) == ["spare"]


def test_a_cluster_with_topics_cannot_be_deleted(world, catalogue):
    response = client_as(world, "admin").delete("/api/clusters/eu-prod/")

    assert response.status_code == 409 and "topics" in response.json()["detail"]
    assert KafkaCluster.objects.filter(name="eu-prod").exists() and not events("kafka_cluster.delete")


@pytest.mark.parametrize("ref", ["env:DJANGO_SECRET_KEY", "env:LDAP_BIND_PASSWORD", "env:KAFKA_SASL_USERNAME",
                                 "env:KAFKA_PASSWORD_FILE", "env:US_KAFKA_PASSWORD", "env:kafka_sasl_password",
                                 "env:KAFKA_SASL_PASSWORD_OLD"])
def test_a_cluster_password_reference_names_only_a_kafka_password(world, ref):
    before = (KafkaCluster.objects.count(), AuditEvent.objects.count())

    response = client_as(world, "admin").post("/api/clusters/", {
        "name": "evil", "bootstrap": "attacker.example:9092", "sasl_username": "x", "sasl_password_ref": ref},
        format="json")

    assert response.status_code == 400 and "sasl_password_ref" in response.json(), response.content
    assert "KAFKA_" in response.json()["sasl_password_ref"][0]
    assert (KafkaCluster.objects.count(), AuditEvent.objects.count()) == before


def test_a_cluster_password_reference_cannot_be_changed_to_another_secret(world, cluster):
    response = client_as(world, "admin").patch("/api/clusters/eu-prod/", {
        "sasl_password_ref": "env:DJANGO_SECRET_KEY"}, format="json")

    assert response.status_code == 400 and "sasl_password_ref" in response.json()
    cluster.refresh_from_db()
    assert cluster.sasl_password_ref == "env:KAFKA_SASL_PASSWORD"


@pytest.mark.parametrize("ref", ["env:KAFKA_SASL_PASSWORD", "env:KAFKA_US_PASSWORD", "env:KAFKA_PASSWORD", ""])
def test_kafka_password_references_are_accepted(world, ref):
    response = client_as(world, "admin").post("/api/clusters/", {
        "name": "us-prod", "bootstrap": "kafka-us:9092", "sasl_password_ref": ref}, format="json")

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "PLAINTEXT", "SSL"])
def test_plain_mechanism_needs_sasl_ssl(world, protocol):
    response = client_as(world, "admin").post("/api/clusters/", {
        "name": "plain", "bootstrap": "kafka:9092", "security_protocol": protocol, "sasl_mechanism": "PLAIN",
        "sasl_username": "x", "sasl_password_ref": "env:KAFKA_SASL_PASSWORD"}, format="json")

    assert response.status_code == 400 and "sasl_mechanism" in response.json(), response.content
    assert "SASL_SSL" in json.dumps(response.json())
    assert not KafkaCluster.objects.filter(name="plain").exists()


def test_plain_mechanism_over_sasl_ssl_is_accepted(world):
    response = client_as(world, "admin").post("/api/clusters/", {
        "name": "plain", "bootstrap": "kafka:9093", "security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
        "sasl_username": "x", "sasl_password_ref": "env:KAFKA_SASL_PASSWORD"}, format="json")

    assert response.status_code == 201, response.content


# --- retention classes ---------------------------------------------------------------------------------------

def test_retention_class_changes_go_through_the_catalogue_and_are_audited(world):
    admin = client_as(world, "admin")

    created = admin.post("/api/retention-classes/", {"name": "two-weeks", "retention_ms": 14 * 86_400_000,
                                                     "partitions": 3}, format="json")
    admin.patch("/api/retention-classes/standard/", {"retention_ms": 3 * 86_400_000, "name": "renamed"},
                format="json")

    assert created.status_code == 201 and created.json()["cleanup_policy"] == "delete"
    assert events("retention_class.create")[0].data == {
        "name": "two-weeks", "description": "", "retention_ms": 14 * 86_400_000, "retention_bytes": -1,
        "cleanup_policy": "delete", "partitions": 3, "archive_days": None}
    assert events("retention_class.update")[0].data == {
        "changes": {"retention_ms": {"from": 7 * 86_400_000, "to": 3 * 86_400_000}}}
    assert RetentionClass.objects.get(name="standard").retention_ms == 3 * 86_400_000


def test_a_retention_class_keeps_its_archive_for_a_number_of_days_or_for_ever(world):
    admin = client_as(world, "admin")

    refused = admin.patch("/api/retention-classes/standard/", {"archive_days": 0}, format="json")
    kept = admin.patch("/api/retention-classes/standard/", {"archive_days": 400}, format="json")

    assert refused.status_code == 400 and "archive_days" in refused.json()
    assert kept.status_code == 200 and kept.json()["archive_days"] == 400
    assert events("retention_class.update")[0].data == {"changes": {"archive_days": {"from": None, "to": 400}}}
    assert admin.patch("/api/retention-classes/standard/", {"archive_days": None},
                       format="json").json()["archive_days"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "standard", "retention_ms": 86_400_000}, "name"),
    ({"name": "forever", "retention_ms": 365 * 86_400_000}, "retention_ms"),  # guardrail, refused by the model
    ({"name": "blink", "retention_ms": 1000}, "retention_ms"),
    ({"name": "huge", "retention_ms": 86_400_000, "retention_bytes": -5}, "retention_bytes"),
    ({"name": "empty", "retention_ms": 86_400_000, "retention_bytes": 0}, "retention_bytes"),  # "positive"
    ({"name": "vast", "retention_ms": 86_400_000, "retention_bytes": 2**63}, "retention_bytes"),
    ({"name": "odd", "retention_ms": 86_400_000, "cleanup_policy": "shred"}, "cleanup_policy"),
    ({"name": "none"}, "retention_ms"),
])
def test_bad_retention_class_input_is_refused_by_field(world, body, field):
    classes, audited = RetentionClass.objects.count(), AuditEvent.objects.count()

    response = client_as(world, "admin").post("/api/retention-classes/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert (RetentionClass.objects.count(), AuditEvent.objects.count()) == (classes, audited)


@pytest.mark.parametrize("size", [-1, 1])
def test_a_retention_size_of_minus_one_or_positive_is_accepted(world, size):
    response = client_as(world, "admin").post("/api/retention-classes/", {"name": f"size{size + 1}",
                                                                          "retention_ms": 86_400_000,
                                                                          "retention_bytes": size}, format="json")

    assert response.status_code == 201 and response.json()["retention_bytes"] == size, response.content


def test_a_retention_size_of_zero_is_refused_by_the_model_too():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="positive"):
        RetentionClass(name="empty", retention_ms=86_400_000, retention_bytes=0).clean()


def test_guardrail_also_applies_to_changes(world):
    response = client_as(world, "admin").patch("/api/retention-classes/standard/",
                                               {"retention_ms": 365 * 86_400_000}, format="json")

    assert response.status_code == 400 and "LOGWARDEN_MAX_RETENTION_DAYS" in response.json()["retention_ms"][0]
    assert RetentionClass.objects.get(name="standard").retention_ms == 7 * 86_400_000
    assert not events("retention_class.update")


def test_a_retention_class_in_use_cannot_be_deleted(world):
    response = client_as(world, "admin").delete("/api/retention-classes/standard/")

    assert response.status_code == 409 and "namespaces" in response.json()["detail"]
    assert RetentionClass.objects.filter(name="standard").exists()


# --- namespaces ----------------------------------------------------------------------------------------------

def test_admin_registers_a_namespace_with_its_topic(world):
    response = client_as(world, "admin").post("/api/namespaces/", {
        "name": "search", "owner_team": "checkout", "sensitivity": "high", "retention_class": "long",
        "labels": {"app": "search"}, "description": "Search"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("name", "owner_team", "sensitivity", "retention_class", "lifecycle", "discovered",
                                 "labels")} == {
        "name": "search", "owner_team": "checkout", "sensitivity": "high", "retention_class": "long",
        "lifecycle": "active", "discovered": False, "labels": {"app": "search"}}
    # the default cluster (from KAFKA_BOOTSTRAP) gets the topic row; the sync runs after commit
    assert [(t["name"], t["cluster"], t["state"]) for t in body["topics"]] == [("logs.search", "default", "pending")]
    [event] = events("namespace.register")
    assert event.actor_label == "dave" and event.data["source"] == "manual" and event.data["owner_team"] == "checkout"


def test_registering_without_a_retention_class_uses_the_default(world):
    response = client_as(world, "admin").post("/api/namespaces/", {"name": "search"}, format="json")

    assert response.status_code == 201 and response.json()["retention_class"] == "standard"
    assert response.json()["owner_team"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Search"}, "name"),
    ({"name": "my_namespace"}, "name"),
    ({"name": "x" * 64}, "name"),
    ({"name": "-search"}, "name"),
    ({"name": "payments"}, "name"),
    ({"name": "search", "retention_class": "eternal"}, "retention_class"),
    ({"name": "search", "owner_team": "nobody"}, "owner_team"),
    ({"name": "search", "sensitivity": "secret"}, "sensitivity"),
    ({"name": "search", "labels": ["app"]}, "labels"),
    ({}, "name"),
])
def test_bad_namespace_input_is_refused_by_field(world, body, field):
    namespaces, topics, audited = Namespace.objects.count(), Topic.objects.count(), AuditEvent.objects.count()

    response = client_as(world, "admin").post("/api/namespaces/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert (Namespace.objects.count(), Topic.objects.count(), AuditEvent.objects.count()) == (
        namespaces, topics, audited)


def test_no_default_retention_class_is_a_field_error(world, settings):
    settings.LOGWARDEN_DEFAULT_RETENTION_CLASS = "gone"

    response = client_as(world, "admin").post("/api/namespaces/", {"name": "search"}, format="json")

    assert response.status_code == 400 and "LOGWARDEN_DEFAULT_RETENTION_CLASS" in response.json()["retention_class"][0]
    assert not Namespace.objects.filter(name="search").exists()


def test_namespace_update_is_audited_and_keeps_its_name(world):
    response = client_as(world, "admin").patch("/api/namespaces/payments/", {
        "retention_class": "long", "owner_team": None, "name": "renamed", "lifecycle": "retired"}, format="json")

    assert response.status_code == 200
    namespace = Namespace.objects.get(name="payments")
    assert (namespace.retention_class.name, namespace.owner_team, namespace.lifecycle) == ("long", None, "active")
    assert events("namespace.update")[0].data == {"changes": {
        "retention_class": {"from": "standard", "to": "long"}, "owner_team": {"from": "payments", "to": None}}}


@pytest.mark.parametrize(("body", "field"), [
    ({"retention_class": "eternal"}, "retention_class"),
    ({"owner_team": "nobody"}, "owner_team"),
    ({"sensitivity": "secret"}, "sensitivity"),
    ({"retention_class": None}, "retention_class"),
])
def test_bad_namespace_changes_are_refused_by_field(world, body, field):
    response = client_as(world, "admin").patch("/api/namespaces/payments/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    namespace = Namespace.objects.get(name="payments")
    assert (namespace.retention_class.name, namespace.owner_team, namespace.sensitivity) == (
        "standard", world.payments, "standard")
    assert not events("namespace.update")


def test_retiring_needs_a_reason_and_is_audited(world):
    admin = client_as(world, "admin")

    refused = admin.post("/api/namespaces/payments/retire/", {}, format="json")
    retired = admin.post("/api/namespaces/payments/retire/", {"reason": "moved to payments-v2"}, format="json")

    assert refused.status_code == 400 and "reason" in refused.json()
    assert retired.status_code == 200 and retired.json()["lifecycle"] == "retired"
    assert Namespace.objects.get(name="payments").lifecycle == Lifecycle.RETIRED
    assert events("namespace.retire")[0].data == {"reason": "moved to payments-v2"}


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["checkout", "payments", "search"]),
    ({"name": "PAY"}, ["payments"]),
    ({"owner_team": "checkout"}, ["checkout"]),
    ({"sensitivity": "high"}, ["checkout"]),
    ({"lifecycle": "orphaned"}, ["search"]),
    ({"retention_class": "long"}, ["search"]),
    ({"discovered": "true"}, ["search"]),
    ({"discovered": "false"}, ["checkout", "payments"]),
    ({"q": "full-text"}, ["search"]),
    ({"q": "Checkout"}, ["checkout"]),
    ({"q": "search text"}, ["search"]),
])
def test_namespaces_are_filtered(world, query, expected):
    Namespace.objects.create(name="search", retention_class=RetentionClass.objects.get(name="long"),
                             lifecycle=Lifecycle.ORPHANED, discovered=True, description="Full-text search")

    response = client_as(world, "engineer").get("/api/namespaces/", query)

    assert response.status_code == 200
    assert [n["name"] for n in response.json()["results"]] == expected


@pytest.mark.parametrize("query", [{"owner_team": "nobody"}, {"retention_class": "eternal"}, {"lifecycle": "gone"}])
def test_unknown_filter_values_are_refused_by_field(world, query):
    response = client_as(world, "engineer").get("/api/namespaces/", query)

    assert response.status_code == 400 and set(response.json()) == set(query)


def test_lists_are_paginated(world):
    standard = RetentionClass.objects.get(name="standard")
    Namespace.objects.bulk_create(Namespace(name=f"ns-{i:03}", retention_class=standard) for i in range(60))

    first = client_as(world, "engineer").get("/api/namespaces/").json()
    second = client_as(world, "engineer").get("/api/namespaces/", {"page": 2}).json()

    assert first["count"] == 62 and len(first["results"]) == 50 and first["next"].endswith("page=2")
    assert len(second["results"]) == 12 and second["next"] is None


# --- topics ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), [
    ({"cluster": "eu-prod"}, ["logs.payments"]),
    ({"cluster": "spare"}, []),
    ({"namespace": "payments"}, ["logs.payments"]),
    ({"namespace": "checkout"}, []),
    ({"state": "pending"}, ["logs.payments"]),
    ({"state": "ready"}, []),
])
def test_topics_are_filtered(world, catalogue, query, expected):
    response = client_as(world, "service_account").get("/api/topics/", query)

    assert [t["name"] for t in response.json()["results"]] == expected


def test_topic_shows_its_namespace_and_cluster_by_name(world, catalogue):
    body = client_as(world, "outsider").get(f"/api/topics/{catalogue.topic.pk}/").json()

    assert body == {"id": catalogue.topic.pk, "name": "logs.payments", "namespace": "payments", "cluster": "eu-prod",
                    "state": "pending", "last_error": "", "synced_at": None}


@pytest.mark.parametrize(("field", "value"), [
    ("bootstrap", "kafka:9092\nsasl.jaas.config=evil"), ("bootstrap", "kafka:9092\n,kafka-2:9092"),
    ("bootstrap", "kafka:9092 security.protocol=PLAINTEXT"), ("bootstrap", "kafka:9092\x1b[2J"),
    ("bootstrap", "kafka"), ("bootstrap", "kafka:99999"), ("client_bootstrap", "kafka:9092\r\nx=y"),
    ("client_bootstrap", "kafka:9092,"),
])
def test_a_cluster_address_that_could_inject_into_a_client_configuration_is_refused(world, field, value):
    before = (KafkaCluster.objects.count(), AuditEvent.objects.count())
    body = {"name": "us-prod", "bootstrap": "kafka-us:9092", field: value}

    response = client_as(world, "admin").post("/api/clusters/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert (KafkaCluster.objects.count(), AuditEvent.objects.count()) == before


def test_changing_a_cluster_bootstrap_needs_its_password_reference_again(world, cluster):
    admin = client_as(world, "admin")

    refused = admin.patch("/api/clusters/eu-prod/", {"bootstrap": "attacker.example:9092"}, format="json")
    assert refused.status_code == 400 and "sasl_password_ref" in refused.json()
    cluster.refresh_from_db()
    assert cluster.bootstrap != "attacker.example:9092"

    moved = admin.patch("/api/clusters/eu-prod/", {"bootstrap": "kafka-eu-3:9092",
                                                   "sasl_password_ref": cluster.sasl_password_ref}, format="json")
    assert moved.status_code == 200, moved.content
    cluster.refresh_from_db()
    assert cluster.bootstrap == "kafka-eu-3:9092"


@pytest.mark.parametrize("labels", [{"app": "v" * 64}, {"k" * 318: "v"}, {f"k{i}": "v" for i in range(101)}])
def test_namespace_labels_beyond_kubernetes_limits_are_refused(world, labels):
    before = (Namespace.objects.count(), AuditEvent.objects.count())

    response = client_as(world, "admin").post("/api/namespaces/", {"name": "search", "labels": labels},
                                              format="json")

    assert response.status_code == 400 and "labels" in response.json(), response.content[:300]
    assert len(response.content) < 500
    assert (Namespace.objects.count(), AuditEvent.objects.count()) == before


def test_a_retire_reason_longer_than_the_limit_is_refused(world):
    response = client_as(world, "admin").post("/api/namespaces/payments/retire/", {"reason": "r" * 2001},
                                              format="json")

    assert response.status_code == 400 and "reason" in response.json()
    world.ns_payments.refresh_from_db()
    assert world.ns_payments.lifecycle == "active"
