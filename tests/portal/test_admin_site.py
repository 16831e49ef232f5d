"""The Django admin site keeps the rules and the audit trail of the services: it cannot rename or move a
topic, revive or extend a token, or point a cluster at a secret that is no Kafka password; its saves, deletes
and actions are audited like the API's. Against the real PostgreSQL."""
from __future__ import annotations

import pytest

from accounts.models import ApiToken
from accounts.services import tokens
from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from topics.models import KafkaCluster, RetentionClass, Topic

pytestmark = pytest.mark.django_db


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


def test_admin_site_refuses_a_foreign_secret_reference(admin_client, cluster):
    response = admin_client.post(f"/admin/topics/kafkacluster/{cluster.pk}/change/", {
        "name": "eu-prod", "bootstrap": "kafka-eu:9092", "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "logwarden", "sasl_password_ref": "env:DJANGO_SECRET_KEY",
        "topic_name_template": "logs.{namespace}", "replication_factor": 1, "enforce_acls": "on"})

    assert response.status_code == 200 and "sasl_password_ref" in response.context["adminform"].form.errors
    cluster.refresh_from_db()
    assert cluster.sasl_password_ref == "env:KAFKA_SASL_PASSWORD"


CLUSTER_FORM = {"name": "eu-prod", "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_username": "logwarden", "sasl_password_ref": "env:KAFKA_SASL_PASSWORD",
                "topic_name_template": "logs.{namespace}", "replication_factor": 1, "enforce_acls": "on"}


def test_admin_site_moving_a_cluster_bootstrap_needs_its_password_reference_again(admin_client, cluster):
    url = f"/admin/topics/kafkacluster/{cluster.pk}/change/"
    before = AuditEvent.objects.count()

    refused = admin_client.post(url, {**CLUSTER_FORM, "bootstrap": "attacker.example:9092"})

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "sasl_password_ref_again" in errors and "sasl_password_ref" in errors["sasl_password_ref_again"][0]
    cluster.refresh_from_db()
    assert cluster.bootstrap != "attacker.example:9092" and AuditEvent.objects.count() == before

    moved = admin_client.post(url, {**CLUSTER_FORM, "bootstrap": "kafka-eu-3:9092",
                                    "sasl_password_ref_again": "env:KAFKA_SASL_PASSWORD"})

    assert moved.status_code == 302, moved.context and moved.context["adminform"].form.errors
    cluster.refresh_from_db()
    assert cluster.bootstrap == "kafka-eu-3:9092"
    [event] = AuditEvent.objects.filter(action="kafka_cluster.update")
    assert set(event.data["changes"]) == {"bootstrap"}


def test_admin_site_edits_a_cluster_without_moving_it_as_before(admin_client, cluster):
    response = admin_client.post(f"/admin/topics/kafkacluster/{cluster.pk}/change/",
                                 {**CLUSTER_FORM, "bootstrap": cluster.bootstrap, "replication_factor": 3})

    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.replication_factor == 3


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


# --- people, groups and service accounts go through the services, audited -------------------------------------

def _user_form(user, **changes) -> dict:
    """The admin's user change form as the page would submit it, with `changes`."""
    data = {"username": user.username, "first_name": user.first_name, "last_name": user.last_name,
            "email": user.email, "groups": list(user.groups.values_list("pk", flat=True)),
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S.%f"), "last_login_0": "", "last_login_1": ""}
    for flag in ("is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    return {**data, **changes}


def test_admin_site_superuser_flag_and_group_changes_are_audited(admin_client, world):
    from django.contrib.auth.models import Group

    admins = Group.objects.get(name="logwarden-admins")
    data = _user_form(world.engineer, is_superuser="on",
                      groups=[*world.engineer.groups.values_list("pk", flat=True), admins.pk])

    response = admin_client.post(f"/admin/auth/user/{world.engineer.pk}/change/", data)

    assert response.status_code == 302
    world.engineer.refresh_from_db()
    assert world.engineer.is_superuser
    changes = {}
    for event in AuditEvent.objects.filter(action="user.update", target_label="alice"):
        assert event.actor_label == "admin" and event.data["source"] == "admin"
        changes.update(event.data["changes"])
    assert changes == {"is_superuser": {"from": False, "to": True},
                       "groups": {"from": ["team-payments"], "to": ["logwarden-admins", "team-payments"]}}


def test_admin_site_cannot_flip_is_active_in_the_form_and_disables_people_through_the_service(
        admin_client, client, world):
    client.force_login(world.engineer)
    page = admin_client.get(f"/admin/auth/user/{world.engineer.pk}/change/")
    assert 'name="is_active"' not in page.content.decode()

    response = admin_client.post("/admin/auth/user/", {"action": "disable", "_selected_action": [world.engineer.pk]})

    assert response.status_code == 302
    world.engineer.refresh_from_db()
    assert not world.engineer.is_active and not world.engineer.groups.exists()
    assert client.get("/access/credentials/").status_code == 302  # her session ended
    [event] = AuditEvent.objects.filter(action="user.disable")
    assert event.actor_label == "admin" and event.data["source"] == "admin" and event.data["sessions_ended"] == 1


def test_admin_site_password_change_is_audited_without_the_password(admin_client, world):
    password = "a-new-local-password-123"
    response = admin_client.post(f"/admin/auth/user/{world.engineer.pk}/password/", {
        "password1": password, "password2": password, "usable_password": "true", "set_usable_password": "true"})

    assert response.status_code == 302
    world.engineer.refresh_from_db()
    assert world.engineer.check_password(password)
    [event] = AuditEvent.objects.filter(action="user.password_change")
    assert event.data == {"source": "admin", "local_sign_in": True}
    assert not any(password in str(e.data) for e in AuditEvent.objects.all())


def test_admin_site_group_changes_are_audited(admin_client, world):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name="team-checkout")
    permission = Permission.objects.get(codename="view_team")

    response = admin_client.post(f"/admin/auth/group/{group.pk}/change/", {
        "name": "team-checkout-eu", "permissions": [permission.pk]})

    assert response.status_code == 302
    changes = {}
    for event in AuditEvent.objects.filter(action="group.update"):
        assert event.data["source"] == "admin"
        changes.update(event.data["changes"])
    assert changes == {"name": {"from": "team-checkout", "to": "team-checkout-eu"},
                       "permissions": {"from": [], "to": [str(permission)]}}


@pytest.mark.kafka
def test_admin_site_disabling_a_service_account_takes_its_acls_off_the_broker(
        admin_client, world, unique, kafka_admin, celery_eager, django_capture_on_commit_callbacks):
    from tests.factories import ask, person
    from topics.access import services as access
    from topics.catalogue import services as catalogue
    from topics.models import KafkaCredential

    account = world.service_account
    olga = person("olga", "team-checkout", "logwarden-owners")
    with django_capture_on_commit_callbacks(execute=True):
        shared = catalogue.register_namespace(SYSTEM, name=f"adm-off-{unique}", owner_team=world.checkout)
    with django_capture_on_commit_callbacks(execute=True):
        access.decide(olga, ask(world, shared, principal_user=account.user).items.get(), "approve", "export")
    username, topic = KafkaCredential.objects.get(principal__user=account.user).username, shared.topics.get().name
    assert kafka_admin.describe_acls(principal=f"User:{username}", resource_name=topic)
    page = admin_client.get(f"/admin/accounts/serviceaccount/{account.pk}/change/")
    assert 'name="is_active"' not in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/accounts/serviceaccount/", {
            "action": "disable", "_selected_action": [account.pk]})

    assert response.status_code == 302
    assert not kafka_admin.describe_acls(principal=f"User:{username}", resource_name=topic)
    [event] = AuditEvent.objects.filter(action="service_account.disable")
    assert event.actor_label == "admin"
    assert admin_client.get(f"/admin/accounts/serviceaccount/{account.pk}/delete/").status_code == 403
