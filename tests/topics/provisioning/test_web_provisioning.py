"""The web pages of provisioning: Kafka credentials with their one-time password, and the reconcile status.
Each role sees what it may; forbidden actions are a 403; every change is audited. The password and reconcile
tests run the real reconciler against the real broker."""
from __future__ import annotations

import re

import pytest
from django.utils import timezone
from django.utils.html import escape

from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.helpers import actions, create_acls_visibly, html
from tests.topics.provisioning.conftest import PASSWORD
from topics.catalogue import services as catalogue
from topics.catalogue.clusters import default_cluster
from topics.kafka.adapter import produce, read_records
from topics.kafka.types import AclBinding, Operation, PatternType, ResourceType
from topics.models import AccessRequest, CredentialState, KafkaCredential, ReconcileRun
from topics.provisioning import credentials

pytestmark = pytest.mark.django_db


# --- credentials: the password shown once ----------------------------------------------------------------

@pytest.mark.kafka
def test_a_new_password_is_shown_once_works_on_the_broker_and_is_never_stored_or_logged(
        as_role, world, unique, kafka_connection, celery_eager, django_capture_on_commit_callbacks, caplog):
    caplog.set_level("DEBUG")
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"cred-{unique}", owner_team=world.payments)
    topic = namespace.topics.get().name
    produce(kafka_connection, topic, [b"GET /health 200"])
    as_role("engineer").post("/access/requests/new/", {
        "principal": "u.alice", "namespaces": [namespace.name], "reason": "read logs",
        "duration_days": "3"})
    with django_capture_on_commit_callbacks(execute=True):  # the approval's reconcile runs on the real broker
        as_role("owner").post(f"/access/approvals/{AccessRequest.objects.get().items.get().pk}/",
                              {"decision": "approve", "comment": "ok"})
    credential = KafkaCredential.objects.get(principal__user=world.engineer)
    assert credential.state == CredentialState.ACTIVE
    url = f"/access/credentials/{credential.pk}/password/"
    assert as_role("owner").post(url).status_code == 403  # not bob's

    page = html(as_role("engineer").get("/access/credentials/"))
    assert f'action="{url}"' in page and "Show password once" in page and "<code>u.alice.</code>" in page
    response = as_role("engineer").post(url)

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = re.search(r'id="kafka-password" class="secret" type="text" value="([^"]+)"', html(response)).group(1)
    assert f"sasl.password={password}" in html(response)  # the client configuration, ready to use
    as_alice = kafka_connection.as_user(credential.username, password)
    assert read_records(as_alice, topic, group="u.alice.web") == [b"GET /health 200"]

    again = as_role("engineer").post(url, follow=True)

    assert again.redirect_chain == [("/access/credentials/", 302)]
    assert "was already shown" in html(again) and f'action="{url}"' not in html(again)
    assert AuditEvent.objects.get(action="credential.display").actor_label == "alice"
    assert not any(password in str(event.data) + event.target_label for event in AuditEvent.objects.all())
    assert password not in caplog.text


def test_my_credentials_list_my_principals_and_their_group_prefixes(as_role, world):
    page = html(as_role("engineer").get("/access/credentials/"))
    assert "<code>u.alice.</code>" in page and "<code>sa.payments-etl.</code>" in page
    assert "sa.payments-etl" not in html(as_role("outsider").get("/access/credentials/"))


# --- credentials: rotation and client configuration files, as in the API ----------------------------------

def test_i_rotate_my_teams_credential_from_the_credentials_page(as_role, world, creds):
    rotate_url = f"/access/credentials/{creds.etl.pk}/rotate/"
    page = html(as_role("engineer").get("/access/credentials/"))
    assert f'href="{rotate_url}"' in page
    assert 'name="force"' not in html(as_role("engineer").get(rotate_url))  # forcing is for admins

    response = as_role("engineer").post(rotate_url, {"overlap_hours": "6"}, follow=True)

    assert response.redirect_chain == [("/access/credentials/", 302)]
    assert "Rotation started: sa.payments-etl.b" in html(response)
    creds.etl.refresh_from_db()
    assert creds.etl.state == CredentialState.RETIRING
    new = KafkaCredential.objects.get(principal=creds.etl.principal, slot="b")
    assert new.state == CredentialState.PENDING
    [event] = AuditEvent.objects.filter(action="credential.rotate")
    assert (event.actor_label, event.data["trigger"], event.data["overlap_seconds"]) == ("alice", "holder", 6 * 3600)


@pytest.mark.parametrize(("data", "message"), [
    ({"overlap_hours": "-1"}, "greater than or equal to 0"),
    ({"overlap_hours": str(15 * 24)}, "less than or equal to 336"),
    ({"overlap_hours": "soon"}, "Enter a whole number."),
])
def test_a_bad_overlap_is_shown_on_its_field_and_rotates_nothing(as_role, world, creds, data, message):
    response = as_role("engineer").post(f"/access/credentials/{creds.etl.pk}/rotate/", data)

    assert response.status_code == 200
    assert response.context["form"].errors["overlap_hours"] and message in html(response)
    assert f'value="{data["overlap_hours"]}"' in html(response)  # what was typed stays
    assert KafkaCredential.objects.get(pk=creds.etl.pk).state == CredentialState.ACTIVE
    assert "credential.rotate" not in actions()


def test_a_second_rotation_in_the_overlap_is_refused_on_the_page(as_role, world, creds):
    url = f"/access/credentials/{creds.etl.pk}/rotate/"
    as_role("engineer").post(url, {"overlap_hours": "1"})

    response = as_role("engineer").post(url, {"overlap_hours": "1"})

    # the first rotation retired the credential: it is no longer offered, and a replayed form is refused
    assert response.status_code == 200 and "already under way" in html(response)
    assert actions().count("credential.rotate") == 1


def test_rotation_follows_the_apis_rules(as_role, world, creds):
    erins = f"/access/credentials/{creds.other.pk}/rotate/"
    assert as_role("engineer").post(erins, {"overlap_hours": "1"}).status_code == 404  # not hers to see
    # only admins force: anyone else's "force" is no field of their form
    as_role("owner").post(f"/access/credentials/{creds.etl.pk}/rotate/", {"overlap_hours": "1", "force": "on"})

    response = as_role("admin").post(erins, {"overlap_hours": "0", "force": "on"})

    assert response.status_code == 302
    triggers = {event.target_label: event.data["trigger"] for event in AuditEvent.objects.filter(
        action="credential.rotate")}
    assert triggers == {"sa.payments-etl.b": "holder", "u.erin.b": "forced"}


def test_the_credentials_page_and_the_one_display_name_the_client_each_file_needs(as_role, creds):
    listing = html(as_role("engineer").get("/access/credentials/"))
    shown = html(as_role("engineer").post(f"/access/credentials/{creds.etl.pk}/password/"))

    for name, needs in credentials.CLIENT_REQUIREMENTS.items():
        assert f"<li><code>{name}</code>: {escape(needs)}</li>" in listing
        assert f'title="Needs {escape(needs)}">{name}</a>' in listing
        assert f'<code>{name}</code> <span class="muted small">needs {escape(needs)}</span></summary>' in shown


@pytest.mark.parametrize("file_name", ["librdkafka.properties", "java.properties", "kcat.sh", "consumer.py"])
def test_client_configuration_files_download_from_the_credentials_page(as_role, world, creds, file_name):
    url = f"/access/credentials/{creds.etl.pk}/config/{file_name}"
    assert f'href="{url}"' in html(as_role("engineer").get("/access/credentials/"))

    response = as_role("engineer").get(url)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == f'attachment; filename="sa.payments-etl.a-{file_name}"'
    assert response.content.decode() == credentials.client_config(creds.etl)[file_name]
    assert PASSWORD not in response.content.decode()
    assert as_role("outsider").get(url).status_code == 404
    assert as_role("engineer").get(f"/access/credentials/{creds.etl.pk}/config/secrets.yaml").status_code == 404


# --- reconcile ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [("engineer", 403), ("owner", 403), ("outsider", 403),
                                              ("auditor", 200), ("admin", 200)])
def test_the_reconcile_page_is_for_admins_and_auditors_and_only_admins_run_one(as_role, pay, role, status):
    response = as_role(role).get("/access/reconcile/")
    assert response.status_code == status
    if status == 200:
        assert "Never reconciled." in html(response)
        assert ("Reconcile default now" in html(response)) is (role == "admin")
    if role != "admin":
        assert as_role(role).post("/access/reconcile/default/").status_code == 403
    assert "reconcile.request" not in actions()


@pytest.mark.kafka
def test_an_admin_runs_a_reconcile_and_sees_what_it_changed_and_the_drift_it_found(
        as_role, world, unique, kafka_admin, celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        topic = catalogue.register_namespace(SYSTEM, name=f"rec-{unique}", owner_team=world.payments).topics.get()
    intruder = AclBinding("User:intruder", ResourceType.TOPIC, topic.name, PatternType.LITERAL, Operation.READ)
    create_acls_visibly(kafka_admin, [intruder])

    with django_capture_on_commit_callbacks(execute=True):
        response = as_role("admin").post("/access/reconcile/default/")

    assert response["Location"] == "/access/reconcile/"
    run = ReconcileRun.objects.get(trigger="manual")
    assert run.succeeded and intruder not in kafka_admin.describe_acls(resource_name=topic.name)
    assert AuditEvent.objects.get(action="reconcile.request").actor_label == "dave"
    page = html(as_role("auditor").get("/access/reconcile/"))
    assert "<dt>Trigger</dt><dd>manual</dd>" in page and "Succeeded" in page
    assert f"User:intruder ALLOW READ TOPIC:{topic.name}" in page and "removed" in page
    assert re.search(r"\d+ ACLs? deleted", page)


def test_a_partial_run_is_shown_as_partial_with_what_failed(as_role, pay):
    ReconcileRun.objects.create(cluster=default_cluster(), trigger="periodic", started_at=timezone.now(),
                                finished_at=timezone.now(), succeeded=False, status="partial",
                                failures=[{"action": "acl.create", "item": "User:u.alice.a ALLOW READ TOPIC:x",
                                           "error": "refused"}])

    page = html(as_role("auditor").get("/access/reconcile/"))

    assert "Partial: 1 failed" in page and "acl.create User:u.alice.a ALLOW READ TOPIC:x: refused" in page
