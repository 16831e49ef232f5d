"""Input the review found reaching places it must not: NUL characters (which PostgreSQL refuses with a
DataError, a 500), admin pages that changed rows around the audit trail, and Kafka cluster settings that could
send any secret of the portal's environment to a broker of an admin's choosing. Against the real PostgreSQL."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from accounts.models import ApiToken, Team
from accounts.services import tokens
from portal.audit import SYSTEM
from portal.models import AuditEvent
from tests.api_clients import client_as
from topics.models import KafkaCluster, Namespace, RetentionClass, Topic

pytestmark = pytest.mark.django_db


def refused_as_json(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json" and "NUL character" in response.json()["detail"]


def refused_as_text(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/plain") and b"NUL character" in response.content
    assert len(response.content) < 200


# --- NUL characters -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/namespaces/%00/", "/api/namespaces/pay%00ments/", "/api/teams/%00/",
                                  "/api/namespaces/?name=%00", "/api/namespaces/?%00=x"])
def test_nul_in_an_api_path_or_query_is_a_400_for_the_token(world, path):
    response = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}").get(path)

    refused_as_json(response)


@pytest.mark.parametrize("path", ["/namespaces/%00/", "/access/principals/%00/", "/teams/%00/",
                                  "/namespaces/?q=%00"])
def test_nul_in_a_page_path_is_a_short_plain_400(client, world, path):
    client.force_login(world.engineer)

    refused_as_text(client.get(path))


@pytest.mark.parametrize(("url", "body"), [
    ("/api/namespaces/", {"name": "sea\u0000rch"}),
    ("/api/namespaces/", {"name": "search", "labels": {"app\u0000": "search"}}),
    ("/api/namespaces/", {"name": "search", "labels": {"app": "sea\u0000rch"}}),
    ("/api/namespaces/", {"name": "search", "description": "\u0000"}),
    ("/api/teams/", {"slug": "bil\u0000ling", "name": "Billing"}),
    ("/api/clusters/", {"name": "eu\u0000", "bootstrap": "kafka:9092"}),
])
def test_nul_escape_in_a_json_body_is_a_400_and_nothing_is_written(world, url, body):
    before = (Namespace.objects.count(), Team.objects.count(), KafkaCluster.objects.count(),
              AuditEvent.objects.count())

    response = client_as(world, "admin").post(url, body, format="json")

    refused_as_json(response)
    assert (Namespace.objects.count(), Team.objects.count(), KafkaCluster.objects.count(),
            AuditEvent.objects.count()) == before


def test_raw_nul_byte_in_a_json_body_is_a_400(world):
    response = client_as(world, "admin").generic("PATCH", "/api/namespaces/payments/",
                                                 b'{"description": "a\x00b"}', content_type="application/json")

    refused_as_json(response)
    world.ns_payments.refresh_from_db()
    assert world.ns_payments.description == ""


def test_an_escaped_backslash_before_u0000_is_text_and_accepted(world):
    response = client_as(world, "admin").post("/api/namespaces/", {"name": "search",
                                                                   "labels": {"note": "\\u0000"}}, format="json")

    assert response.status_code == 201, response.content
    assert Namespace.objects.get(name="search").labels == {"note": "\\u0000"}


@pytest.mark.parametrize("field", ["description", "name"])
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_nul_in_a_form_field_is_a_400_and_nothing_is_written(client, world, field, encoding):
    client.force_login(world.admin)
    data = {"name": "ledger", "owner_team": world.payments.pk, "sensitivity": "high",
            "retention_class": world.ns_payments.retention_class_id, "description": "The ledger"}
    data[field] += "\x00"

    def post(url):
        if encoding == "multipart":
            return client.post(url, data)
        return client.post(url, urlencode(data), content_type="application/x-www-form-urlencoded")

    refused_as_text(post("/namespaces/"))
    refused_as_text(post("/namespaces/payments/"))
    assert not Namespace.objects.filter(name__startswith="ledger").exists()
    assert not AuditEvent.objects.filter(action__startswith="namespace.").exists()


def test_nul_free_requests_pass(client, world):
    client.force_login(world.engineer)

    assert client.get("/namespaces/payments/").status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Bearer {world.token}").get("/api/namespaces/payments/").status_code == 200


# --- admin pages keep the audit trail ---------------------------------------------------------------------

@pytest.fixture
def cluster(world):
    return KafkaCluster.objects.create(name="eu-prod", bootstrap="kafka-eu:9092", sasl_username="logwarden",
                                       sasl_password_ref="env:KAFKA_SASL_PASSWORD")


def test_admin_site_cannot_rename_or_move_a_topic(admin_client, world, cluster):
    other = KafkaCluster.objects.create(name="spare", bootstrap="kafka-spare:9092")
    topic = Topic.objects.create(namespace=world.ns_payments, cluster=cluster, name="logs.payments")

    page = admin_client.get(f"/admin/topics/topic/{topic.pk}/change/")
    admin_client.post(f"/admin/topics/topic/{topic.pk}/change/", {
        "name": "logs.stolen", "cluster": other.pk, "namespace": world.ns_checkout.pk})

    assert page.status_code == 200 and 'name="name"' not in page.content.decode()
    topic.refresh_from_db()
    assert (topic.name, topic.cluster, topic.namespace) == ("logs.payments", cluster, world.ns_payments)
    assert admin_client.get("/admin/topics/topic/add/").status_code == 403


def test_admin_site_deleting_a_topic_is_audited(admin_client, world, cluster):
    topic = Topic.objects.create(namespace=world.ns_payments, cluster=cluster, name="logs.payments")

    response = admin_client.post(f"/admin/topics/topic/{topic.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302 and not Topic.objects.filter(pk=topic.pk).exists()
    [event] = AuditEvent.objects.filter(action="topic.delete")
    assert event.actor_label == "admin" and event.target_label == "logs.payments @ eu-prod"
    assert event.data == {"source": "admin"}


def test_admin_site_cannot_revive_a_revoked_token_or_extend_it(admin_client, world):
    token = ApiToken.objects.get(service_account=world.service_account)
    tokens.revoke(SYSTEM, token)
    token.refresh_from_db()
    revoked_at = token.revoked_at

    page = admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    admin_client.post(f"/admin/accounts/apitoken/{token.pk}/change/", {
        "revoked_at_0": "", "revoked_at_1": "", "expires_at_0": "2999-01-01", "expires_at_1": "00:00:00"})

    assert page.status_code == 200
    assert 'name="revoked_at_0"' not in page.content.decode() and 'name="expires_at_0"' not in page.content.decode()
    token.refresh_from_db()
    assert (token.revoked_at, token.expires_at) == (revoked_at, None)
    with pytest.raises(tokens.TokenRejected):
        tokens.authenticate(world.token)


# --- Kafka cluster settings -----------------------------------------------------------------------------

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


def test_admin_site_refuses_a_foreign_secret_reference(admin_client, cluster):
    response = admin_client.post(f"/admin/topics/kafkacluster/{cluster.pk}/change/", {
        "name": "eu-prod", "bootstrap": "kafka-eu:9092", "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "logwarden", "sasl_password_ref": "env:DJANGO_SECRET_KEY",
        "topic_name_template": "logs.{namespace}", "replication_factor": 1, "enforce_acls": "on"})

    assert response.status_code == 200 and "sasl_password_ref" in response.context["adminform"].form.errors
    cluster.refresh_from_db()
    assert cluster.sasl_password_ref == "env:KAFKA_SASL_PASSWORD"


def test_admin_site_revokes_tokens_through_the_audited_service(admin_client, world):
    token = ApiToken.objects.get(service_account=world.service_account)

    response = admin_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    [event] = AuditEvent.objects.filter(action="token.revoke")
    assert event.actor_label == "admin"


def test_admin_site_changes_are_audited_like_the_api_changes(admin_client, world):
    response = admin_client.post("/admin/topics/retentionclass/add/", {
        "name": "two-weeks", "description": "", "retention_ms": 14 * 86_400_000, "retention_bytes": -1,
        "cleanup_policy": "delete", "partitions": 1})
    created = RetentionClass.objects.get(name="two-weeks")
    admin_client.post(f"/admin/topics/retentionclass/{created.pk}/change/", {
        "name": "two-weeks", "description": "", "retention_ms": 7 * 86_400_000, "retention_bytes": -1,
        "cleanup_policy": "delete", "partitions": 1})

    assert response.status_code == 302
    [create] = AuditEvent.objects.filter(action="retention_class.create")
    assert create.data["source"] == "admin" and create.data["retention_ms"] == 14 * 86_400_000
    [update] = AuditEvent.objects.filter(action="retention_class.update")
    assert update.data == {"source": "admin",
                           "changes": {"retention_ms": {"from": 14 * 86_400_000, "to": 7 * 86_400_000}}}
