"""The Kafka credentials API — who sees and manages which credential, the one-time password display, client
configuration downloads, rotation — and a service account obtaining, using and rotating its credentials with
its API token on the real broker.

Most tests run in a transaction that is rolled back, with the credentials as the reconciler leaves them once it
has created their users on the broker (active, new password waiting in its hand-off): nothing here reaches the
broker. The flow test runs the reconciles inline (celery_eager, on-commit callbacks executed)."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import service_accounts, tokens
from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.api_clients import assert_allowed_as_expected, call, client_as, matrix
from tests.factories import activate, person
from tests.topics.provisioning.conftest import PASSWORD
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.kafka.adapter import produce, read_records
from topics.models import CredentialHandoff, CredentialState, KafkaCredential
from topics.provisioning import credentials
from topics.provisioning.principals import principal_for

pytestmark = pytest.mark.django_db


def rotation(principal: str, **extra) -> dict:
    return {"principal": principal, "cluster": "default", "overlap_hours": 1, **extra}


# --- authorization matrix ----------------------------------------------------------------------------------
# statuses in ROLES order: engineer, owner, auditor, admin, outsider, service_account, anonymous

REQUESTS = {
    "list": lambda c: ("get", "/api/credentials/", None),
    "retrieve": lambda c: ("get", f"/api/credentials/{c.etl.pk}/", None),
    "show-password": lambda c: ("post", f"/api/credentials/{c.etl.pk}/show-password/", None),
    "client-config": lambda c: ("get", f"/api/credentials/{c.etl.pk}/client-config/", None),
    "rotate": lambda c: ("post", "/api/credentials/rotate/", rotation("sa.payments-etl")),
    "rotate-forced": lambda c: ("post", "/api/credentials/rotate/", rotation("sa.payments-etl", force=True)),
    "delete": lambda c: ("delete", f"/api/credentials/{c.etl.pk}/", None),
    "other-retrieve": lambda c: ("get", f"/api/credentials/{c.other.pk}/", None),
    "other-show-password": lambda c: ("post", f"/api/credentials/{c.other.pk}/show-password/", None),
    "other-client-config": lambda c: ("get", f"/api/credentials/{c.other.pk}/client-config/", None),
    "other-rotate": lambda c: ("post", "/api/credentials/rotate/", rotation("u.erin")),
}

MATRIX = {
    "list": (200, 200, 200, 200, 200, 200, 401),  # each sees the credentials they manage
    # payments' service account: payments' people, admins and the account itself
    "retrieve": (200, 200, 404, 200, 404, 200, 401),
    "show-password": (200, 200, 404, 200, 404, 200, 401),
    "client-config": (200, 200, 404, 200, 404, 200, 401),
    "rotate": (201, 201, 403, 201, 403, 201, 401),
    "rotate-forced": (403, 403, 403, 201, 403, 403, 401),
    "delete": (405, 405, 405, 405, 405, 405, 401),
    # erin's own credential: erin and admins; its password erin only (an admin would take over her identity)
    "other-retrieve": (404, 404, 404, 200, 200, 404, 401),
    "other-show-password": (404, 404, 404, 403, 200, 404, 401),
    "other-client-config": (404, 404, 404, 200, 200, 404, 401),
    "other-rotate": (403, 403, 403, 201, 201, 403, 401),
}


@pytest.mark.parametrize(("action", "role", "expected"), matrix(MATRIX))
def test_authorization_matrix(world, creds, action, role, expected):
    assert_allowed_as_expected(world, role, REQUESTS[action](creds), expected)


@pytest.mark.parametrize(("role", "expected"), [
    ("engineer", ["sa.payments-etl.a"]), ("owner", ["sa.payments-etl.a"]), ("auditor", []),
    ("admin", ["sa.payments-etl.a", "u.erin.a"]), ("outsider", ["u.erin.a"]),
    ("service_account", ["sa.payments-etl.a"]),
])
def test_each_sees_the_credentials_they_manage(world, creds, role, expected):
    body = client_as(world, role).get("/api/credentials/").json()

    assert [c["username"] for c in body["results"]] == expected


def test_a_credential_shows_everything_but_its_password(world, creds):
    body = client_as(world, "service_account").get(f"/api/credentials/{creds.etl.pk}/").json()

    assert {k: v for k, v in body.items() if k not in ("created_at", "activated_at")} == {
        "id": creds.etl.pk, "username": "sa.payments-etl.a", "principal": "sa.payments-etl", "cluster": "default",
        "slot": "a", "state": "active", "retire_at": None, "has_pending_password": True,
        "group_prefix": "sa.payments-etl."}
    assert PASSWORD not in json.dumps(body)


@pytest.mark.parametrize(("query", "expected"), [
    ({"principal": "u.erin"}, ["u.erin.a"]), ({"state": "active"}, ["sa.payments-etl.a", "u.erin.a"]),
    ({"state": "pending"}, []), ({"cluster": "default"}, ["sa.payments-etl.a", "u.erin.a"]),
])
def test_credentials_are_filtered(world, creds, query, expected):
    response = client_as(world, "admin").get("/api/credentials/", query)

    assert [c["username"] for c in response.json()["results"]] == expected


@pytest.mark.parametrize("query", [{"state": "lost"}, {"cluster": "nowhere"}, {"principal": "u.nobody"}])
def test_unknown_credential_filter_values_are_refused_by_field(world, creds, query):
    response = client_as(world, "admin").get("/api/credentials/", query)

    assert response.status_code == 400 and set(response.json()) == set(query)


# --- the one-time password -------------------------------------------------------------------------------------

def test_the_password_is_shown_once_uncached_with_its_client_config(world, creds):
    etl = client_as(world, "service_account")
    url = f"/api/credentials/{creds.etl.pk}/show-password/"

    shown = etl.post(url)
    again = etl.post(url)

    assert shown.status_code == 200 and shown.json()["password"] == PASSWORD
    assert "no-store" in shown["Cache-Control"]
    config = shown.json()["client_config"]
    assert sorted(config) == ["consumer.py", "java.properties", "kcat.sh", "librdkafka.properties"]
    assert all(PASSWORD in text and "sa.payments-etl.a" in text for text in config.values())
    assert again.status_code == 410 and "already shown" in again.json()["detail"]
    assert "Rotate" in again.json()["detail"]
    assert etl.get(f"/api/credentials/{creds.etl.pk}/").json()["has_pending_password"] is False
    [event] = AuditEvent.objects.filter(action="credential.display")
    assert event.actor_label == "sa:payments-etl" and event.data == {"username": "sa.payments-etl.a"}
    assert PASSWORD not in json.dumps(list(AuditEvent.objects.values_list("data", flat=True)))


def test_a_password_not_collected_in_time_is_gone(world, creds):
    CredentialHandoff.objects.filter(credential=creds.etl).update(expires_at=timezone.now() - timedelta(minutes=1))
    etl = client_as(world, "service_account")

    listed = etl.get(f"/api/credentials/{creds.etl.pk}/").json()
    response = etl.post(f"/api/credentials/{creds.etl.pk}/show-password/")

    assert listed["has_pending_password"] is False
    assert response.status_code == 410 and "not collected in time" in response.json()["detail"]
    assert not AuditEvent.objects.filter(action="credential.display").exists()


def test_a_credential_not_on_the_broker_yet_asks_to_retry(world, creds):
    access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=world.ns_payments.topics.get(),
                          days=1, reason="first grant")
    pending = KafkaCredential.objects.get(principal__user=world.engineer)

    response = client_as(world, "engineer").post(f"/api/credentials/{pending.pk}/show-password/")

    assert pending.state == CredentialState.PENDING
    assert response.status_code == 409 and "not created on the broker yet, retry shortly" in response.json()["detail"]
    assert not AuditEvent.objects.filter(action="credential.display").exists()


# --- client configuration ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("format_", "file_name", "marker"), [
    ("librdkafka", "librdkafka.properties", "sasl.mechanisms=SCRAM-SHA-512"),
    ("java", "java.properties", "ScramLoginModule"),
    ("kcat", "kcat.sh", "kcat -C"),
    ("python", "consumer.py", "from confluent_kafka import Consumer"),
])
def test_client_config_downloads_one_form_without_the_password(world, creds, format_, file_name, marker):
    response = client_as(world, "service_account").get(f"/api/credentials/{creds.etl.pk}/client-config/",
                                                       {"format": format_})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == f'attachment; filename="sa.payments-etl.a-{file_name}"'
    text = response.content.decode()
    assert text == credentials.client_config(creds.etl)[file_name] and marker in text
    assert PASSWORD not in text


def test_client_config_defaults_to_all_four_as_json(world, creds):
    response = client_as(world, "engineer").get(f"/api/credentials/{creds.etl.pk}/client-config/")

    assert response.status_code == 200 and "Content-Disposition" not in response
    assert response.json() == credentials.client_config(creds.etl)
    assert PASSWORD not in response.content.decode()


def test_an_unknown_client_config_format_is_refused_by_name(world, creds):
    response = client_as(world, "engineer").get(f"/api/credentials/{creds.etl.pk}/client-config/", {"format": "yaml"})

    assert response.status_code == 400 and "librdkafka" in response.json()["format"][0]


def test_an_error_of_a_file_download_is_json(world, creds):
    response = client_as(world, "engineer").get("/api/credentials/0/client-config/", {"format": "java"})

    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_options_of_a_file_download_answers_in_json(world, creds):
    response = client_as(world, "engineer").options(f"/api/credentials/{creds.etl.pk}/client-config/?format=java")

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["name"]


# --- rotation ----------------------------------------------------------------------------------------------------

def test_a_service_account_rotates_its_own_credential(world, creds):
    response = client_as(world, "service_account").post("/api/credentials/rotate/",
                                                        rotation("sa.payments-etl", overlap_hours=6), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["username"], body["slot"], body["state"], body["has_pending_password"]) == (
        "sa.payments-etl.b", "b", "pending", False)
    creds.etl.refresh_from_db()
    assert creds.etl.state == CredentialState.RETIRING
    assert timedelta(hours=5, minutes=59) < creds.etl.retire_at - timezone.now() <= timedelta(hours=6)
    [event] = AuditEvent.objects.filter(action="credential.rotate")
    assert (event.actor_label, event.data["trigger"], event.data["overlap_seconds"]) == (
        "sa:payments-etl", "holder", 6 * 3600)


def test_an_admin_forces_a_rotation(world, creds):
    response = client_as(world, "admin").post("/api/credentials/rotate/", rotation("u.erin", force=True,
                                                                                   overlap_hours=0), format="json")

    assert response.status_code == 201
    assert AuditEvent.objects.get(action="credential.rotate").data["trigger"] == "forced"


def test_an_admin_who_forces_a_rotation_never_reads_the_new_password(world, creds):
    """Forcing a rotation of erin's credential and then reading its new password would hand the admin erin's
    Kafka identity: the password is erin's to see."""
    admin = client_as(world, "admin")
    rotated = admin.post("/api/credentials/rotate/", rotation("u.erin", force=True), format="json")
    assert rotated.status_code == 201, rotated.content
    new = activate(KafkaCredential.objects.get(pk=rotated.json()["id"]), password="erins-fresh-secret")

    refused = admin.post(f"/api/credentials/{new.pk}/show-password/")
    assert refused.status_code == 403 and "erins-fresh-secret" not in refused.content.decode()
    assert CredentialHandoff.objects.filter(credential=new).exists()  # still waiting for erin
    shown = client_as(world, "outsider").post(f"/api/credentials/{new.pk}/show-password/")
    assert shown.status_code == 200 and shown.json()["password"] == "erins-fresh-secret"
    assert [e.actor_label for e in AuditEvent.objects.filter(action="credential.display")] == ["erin"]


@pytest.mark.parametrize(("body", "field"), [
    (rotation("sa.payments-etl", overlap_hours=-1), "overlap_hours"),
    (rotation("sa.payments-etl", overlap_hours=15 * 24), "overlap_hours"),  # LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS
    (rotation("sa.payments-etl", overlap_hours=10 ** 12), "overlap_hours"),
    (rotation("sa.payments-etl", overlap_hours="soon"), "overlap_hours"),
    (rotation("u.alice"), "principal"),  # holds no grant
    (rotation("u.nobody"), "principal"),
    (rotation("sa.payments-etl", cluster="nowhere"), "cluster"),
    ({"cluster": "default"}, "principal"),
])
def test_bad_rotations_are_refused_by_field_and_save_nothing(world, creds, body, field):
    before = (KafkaCredential.objects.count(), AuditEvent.objects.count())

    response = client_as(world, "engineer").post("/api/credentials/rotate/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert (KafkaCredential.objects.count(), AuditEvent.objects.count()) == before
    assert KafkaCredential.objects.get(pk=creds.etl.pk).state == CredentialState.ACTIVE


def test_a_second_rotation_during_the_overlap_is_refused(world, creds):
    etl = client_as(world, "service_account")

    first = etl.post("/api/credentials/rotate/", rotation("sa.payments-etl"), format="json")
    second = etl.post("/api/credentials/rotate/", rotation("sa.payments-etl"), format="json")

    assert first.status_code == 201
    assert second.status_code == 400 and "already under way" in second.json()["principal"][0]


# --- tokens ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("spoil", "message"), [
    (lambda world: tokens.revoke(SYSTEM, world.service_account.tokens.get()), "token revoked"),
    (lambda world: world.service_account.tokens.update(expires_at=timezone.now() - timedelta(seconds=1)),
     "token expired"),
    (lambda world: service_accounts.set_active(SYSTEM, world.service_account, False), "service account disabled"),
])
def test_a_spoilt_token_is_refused(world, creds, spoil, message):
    spoil(world)

    for method, url, body in (("get", "/api/credentials/", None),
                              ("post", f"/api/credentials/{creds.etl.pk}/show-password/", None),
                              ("post", "/api/credentials/rotate/", rotation("sa.payments-etl"))):
        response = call(client_as(world, "service_account"), method, url, body)
        assert response.status_code == 401 and message in response.json()["detail"], (url, response.content)
    assert CredentialHandoff.objects.filter(credential=creds.etl).exists()


def test_a_malformed_token_is_refused(world, creds):
    response = client_as(replace(world, token="lw_not-a-token"), "service_account").get("/api/credentials/")

    assert response.status_code == 401 and "malformed" in response.json()["detail"]


# --- a service account on the real broker ------------------------------------------------------------------------

@pytest.mark.kafka
def test_a_service_account_obtains_uses_and_rotates_its_credentials_with_its_token(
        world, unique, kafka_connection, celery_eager, django_capture_on_commit_callbacks):
    """alice asks for her team's new service account on checkout's namespace, olga of checkout approves (nobody of
    payments may: they can act as the account); with its token the account lists its credential, shows the
    password once, reads the topic, rotates, and both passwords work in the overlap."""
    account = service_accounts.create(SYSTEM, name=f"etl-{unique}", team=world.payments)
    sa = client_as(replace(world, service_account=account,
                           token=tokens.issue(SYSTEM, account, name="ci", expires_at=None).secret), "service_account")
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"sa-{unique}", owner_team=world.checkout)
    olga = person("olga", "team-checkout", "logwarden-owners")
    topic = namespace.topics.get().name
    produce(kafka_connection, topic, [b"record-1"])

    asked = client_as(world, "engineer").post("/api/access-requests/", {
        "principal": f"sa.{account.name}", "namespaces": [namespace.name], "reason": "nightly export",
        "duration_days": 7}, format="json")
    assert asked.status_code == 201, asked.content
    with django_capture_on_commit_callbacks(execute=True):
        decided = client_as(replace(world, owner=olga), "owner").post(
            f"/api/request-items/{asked.json()['items'][0]['id']}/decide/",
                                                 {"decision": "approve", "comment": "for the export"}, format="json")
    assert decided.status_code == 200 and decided.json()["state"] == "approved"

    [first] = sa.get("/api/credentials/").json()["results"]
    assert (first["state"], first["has_pending_password"]) == ("active", True)
    first_password = sa.post(f"/api/credentials/{first['id']}/show-password/").json()["password"]
    assert sa.post(f"/api/credentials/{first['id']}/show-password/").status_code == 410
    as_first = kafka_connection.as_user(first["username"], first_password)
    assert read_records(as_first, topic, group=f"{first['group_prefix']}one") == [b"record-1"]

    with django_capture_on_commit_callbacks(execute=True):
        rotated = sa.post("/api/credentials/rotate/", {"principal": f"sa.{account.name}", "cluster": "default",
                                                       "overlap_hours": 1}, format="json")
    assert rotated.status_code == 201 and rotated.json()["state"] == "pending"
    listed = {c["username"]: c for c in sa.get("/api/credentials/").json()["results"]}
    second = listed[rotated.json()["username"]]
    assert (second["state"], second["has_pending_password"]) == ("active", True)
    assert listed[first["username"]]["state"] == "retiring"
    shown = sa.post(f"/api/credentials/{second['id']}/show-password/")
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    second_password = shown.json()["password"]
    assert second_password != first_password
    assert f"sasl.password={second_password}" in shown.json()["client_config"]["librdkafka.properties"]

    produce(kafka_connection, topic, [b"record-2"])
    as_second = kafka_connection.as_user(second["username"], second_password)
    assert read_records(as_second, topic, group=f"{second['group_prefix']}two") == [b"record-1", b"record-2"]
    assert read_records(as_first, topic, group=f"{first['group_prefix']}three") == [b"record-1", b"record-2"]
    download = sa.get(f"/api/credentials/{second['id']}/client-config/", {"format": "python"})
    assert download.status_code == 200 and second_password not in download.content.decode()

    trail = json.dumps(list(AuditEvent.objects.values_list("data", flat=True)))
    assert first_password not in trail and second_password not in trail
    assert AuditEvent.objects.filter(action="credential.rotate", actor_label=f"sa:{account.name}").exists()
    assert AuditEvent.objects.filter(action="credential.display", actor_label=f"sa:{account.name}").count() == 2
