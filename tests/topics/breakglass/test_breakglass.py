"""Break-glass on the real servers: the responder's access is provisioned at once (they consume from the real
broker) and ends on its own through the scheduled reconcile; the owners and auditors are told; the use stays an
open finding until someone else reviews it; only the break-glass role breaks the glass; each sees what they may."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import GroupMapping, Notification, Role
from portal.models import AuditEvent
from tests.api_clients import client_as
from tests.factories import person
from tests.helpers import html, sealed_csv_rows
from tests.topics.reviews.conftest import RECORD
from topics import queue
from topics.breakglass import services as breakglass
from topics.kafka.adapter import read_records
from topics.kafka.errors import KafkaAuthorizationError
from topics.models import BreakGlassUse, BrokerChange, Grant, GrantSource, GrantState, KafkaCredential, Verdict
from topics.provisioning import handoff

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def responder(world):
    """rita, on call in team checkout, in the LDAP group mapped to the break-glass role."""
    GroupMapping.objects.create(ldap_group="logwarden-breakglass", role=Role.BREAK_GLASS)
    return person("rita", "team-checkout", "logwarden-breakglass")


@pytest.mark.kafka
def test_break_glass_is_provisioned_at_once_and_expires_on_its_own(
        world, responder, on_broker, kafka_connection, kafka_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        use = breakglass.break_glass(responder, namespace=on_broker, reason="INC-4711: payments down", hours=2)

    grant = use.grants.get()
    assert (grant.source, grant.state, grant.granted_by) == (GrantSource.BREAK_GLASS, GrantState.ACTIVE, responder)
    assert grant.valid_until == use.valid_until == use.started_at + timedelta(hours=2)
    credential = KafkaCredential.objects.get(principal__user=responder)
    as_rita = kafka_connection.as_user(credential.username, handoff.claim(credential))
    topic = on_broker.topics.get().name
    assert read_records(as_rita, topic, group=f"{use.principal.name}.incident") == [RECORD]
    # its end is already in the outbox: a run of the cluster is due when the access ends
    assert BrokerChange.objects.filter(cluster=grant.topic.cluster, due_at=grant.valid_until, trigger="expiry",
                                       done_at__isnull=True).exists()

    # time passes: the grant's end and its scheduled run are now
    ended = timezone.now() - timedelta(seconds=1)
    Grant.objects.filter(pk=grant.pk).update(valid_from=ended - timedelta(hours=2), valid_until=ended)
    BrokerChange.objects.filter(due_at=grant.valid_until).update(due_at=ended)
    with django_capture_on_commit_callbacks(execute=True):
        drained = queue.drain()

    assert drained["sent"] == [grant.topic.cluster_id]
    grant.refresh_from_db()
    assert grant.state == GrantState.EXPIRED
    assert not kafka_admin.describe_acls(principal=f"User:{credential.username}", resource_name=topic)
    with pytest.raises(KafkaAuthorizationError):
        read_records(as_rita, topic, group=f"{use.principal.name}.after")
    assert AuditEvent.objects.filter(action="grant.expire", target_id=str(grant.pk)).exists()
    assert BreakGlassUse.objects.get(pk=use.pk).open_finding  # expiry does not close the finding


def test_the_owners_and_the_auditors_are_told_and_every_step_is_audited(
        world, responder, pay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        use = breakglass.break_glass(responder, namespace=pay, reason="INC-1", hours=1)

    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"bob", "carol"}  # payments' owner and the auditor; not rita herself
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.owner.email, world.auditor.email])
    assert "INC-1" in mail.outbox[0].body and f"/access/break-glass/{use.pk}/" in mail.outbox[0].body
    opened = AuditEvent.objects.get(action="breakglass.open")
    assert opened.actor_label == "rita" and opened.data["notified"] == ["bob", "carol"]
    created = AuditEvent.objects.get(action="grant.create", actor_label="rita")
    assert created.data["source"] == GrantSource.BREAK_GLASS and created.data["break_glass"] == use.pk

    breakglass.review(world.auditor, use, verdict=Verdict.JUSTIFIED, comment="matches INC-1")
    assert AuditEvent.objects.get(action="breakglass.review").data["verdict"] == "justified"


def test_only_the_break_glass_role_breaks_the_glass_within_the_limits(world, responder, pay, settings):
    for someone in (world.engineer, world.owner, world.admin, world.service_account.user):
        with pytest.raises(PermissionDenied):
            breakglass.break_glass(someone, namespace=pay, reason="x", hours=1)
    settings.LOGWARDEN_BREAK_GLASS_MAX_HOURS = 4
    with pytest.raises(ValidationError) as refused:
        breakglass.break_glass(responder, namespace=pay, reason=" ", hours=5)
    assert set(refused.value.message_dict) == {"reason", "hours"}
    breakglass.break_glass(responder, namespace=pay, reason="INC-2", hours=4)
    with pytest.raises(ValidationError, match="already hold"):
        breakglass.break_glass(responder, namespace=pay, reason="INC-2 again", hours=1)
    assert not BreakGlassUse.objects.filter(reason="INC-2 again").exists()


def test_the_use_stays_an_open_finding_until_someone_else_reviews_it(world, responder, pay, client):
    use = breakglass.break_glass(responder, namespace=pay, reason="INC-3", hours=1)

    with pytest.raises(PermissionDenied):
        breakglass.review(responder, use, verdict=Verdict.JUSTIFIED, comment="it was needed")
    client.force_login(responder)
    assert client.post(f"/access/break-glass/{use.pk}/review/",
                       {"verdict": "justified", "comment": "me"}).status_code == 403
    assert "Review this use" not in html(client.get(f"/access/break-glass/{use.pk}/"))
    assert BreakGlassUse.objects.get(pk=use.pk).open_finding

    client.force_login(world.owner)  # bob owns payments
    response = client.post(f"/access/break-glass/{use.pk}/review/", {"verdict": "unjustified",
                                                                     "comment": "no incident on record"})
    assert response.status_code == 302
    use.refresh_from_db()
    assert (use.open_finding, use.verdict, use.reviewed_by) == (False, Verdict.UNJUSTIFIED, world.owner)
    with pytest.raises(ValidationError, match="Already reviewed"):
        breakglass.review(world.auditor, use, verdict=Verdict.JUSTIFIED, comment="second look")


def test_each_person_sees_the_uses_they_may_and_others_are_a_404(world, responder, pay, chk, client):
    mine = breakglass.break_glass(responder, namespace=pay, reason="INC-4", hours=1)
    client.force_login(world.outsider)  # erin: not the responder, owns nothing
    assert client.get(f"/access/break-glass/{mine.pk}/").status_code == 404
    assert f"/access/break-glass/{mine.pk}/" not in html(client.get("/access/break-glass/"))
    assert client_as(world, "outsider").get(f"/api/break-glass/{mine.pk}/").status_code == 404
    refused = client_as(world, "outsider").post(f"/api/break-glass/{mine.pk}/review/",
                                                {"verdict": "justified", "comment": "x"}, format="json")
    assert refused.status_code == 404
    for role in ("owner", "auditor"):
        assert client_as(world, role).get(f"/api/break-glass/{mine.pk}/").json()["open_finding"] is True
    client.force_login(responder)
    assert client.get(f"/access/break-glass/{mine.pk}/").status_code == 200


def test_the_api_breaks_the_glass_for_the_role_only(world, responder, pay, settings):
    settings.LOGWARDEN_BREAK_GLASS_MAX_HOURS = 4
    body = {"namespace": pay.name, "reason": "INC-5", "hours": 2}
    assert client_as(world, "engineer").post("/api/break-glass/", body, format="json").status_code == 403
    api = APIClient()
    api.force_login(responder)
    too_long = api.post("/api/break-glass/", {**body, "hours": 5}, format="json")
    assert too_long.status_code == 400 and "hours" in too_long.json()
    created = api.post("/api/break-glass/", body, format="json")
    assert created.status_code == 201 and created.json()["open_finding"] is True
    reviewed = client_as(world, "auditor").post(f"/api/break-glass/{created.json()['id']}/review/",
                                                {"verdict": "justified", "comment": "ok"}, format="json")
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "carol"


def test_the_report_lists_uses_their_reviews_and_open_findings(world, responder, pay, chk, as_role):
    reviewed = breakglass.break_glass(responder, namespace=pay, reason="INC-6", hours=1)
    breakglass.break_glass(responder, namespace=chk, reason="INC-7", hours=1)
    breakglass.review(world.auditor, reviewed, verdict=Verdict.JUSTIFIED, comment="fine")
    auditor = as_role("auditor")

    rows = sealed_csv_rows(auditor.get("/access/break-glass/report.csv"))
    assert sorted((row["reason"], row["finding"], row["reviewed_by"]) for row in rows) == [
        ("INC-6", "closed", "carol"), ("INC-7", "open", "")]
    open_only = auditor.get("/access/break-glass/report.json?open_finding=true").json()
    assert [row["reason"] for row in open_only["rows"]] == ["INC-7"]
    assert open_only["parameters"] == {"open_finding": "true"}
    assert "open finding" in html(auditor.get("/access/break-glass/?open_finding=true"))


def test_the_break_glass_form_is_the_roles_only(world, responder, pay, client, settings):
    settings.LOGWARDEN_BREAK_GLASS_MAX_HOURS = 3
    client.force_login(world.engineer)
    assert client.get("/access/break-glass/new/").status_code == 403
    assert "Break the glass" not in html(client.get("/access/break-glass/"))
    client.force_login(responder)
    page = html(client.get("/access/break-glass/new/"))
    assert "at most 3 hours" in page and 'name="reason"' in page
    refused = client.post("/access/break-glass/new/", {"namespace": pay.name, "reason": "", "hours": 4})
    assert refused.status_code == 200 and "This field is required" in html(refused)
    made = client.post("/access/break-glass/new/", {"namespace": pay.name, "reason": "INC-8", "hours": 3})
    use = BreakGlassUse.objects.get(reason="INC-8")
    assert made.status_code == 302 and made["Location"] == f"/access/break-glass/{use.pk}/"
