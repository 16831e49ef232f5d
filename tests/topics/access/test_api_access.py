"""The access API (principals, access requests, the approval queue, request items, grants) —
who may do what, what each role sees, filters, what bad input gets, the audit trail every change leaves — and
the whole flow, request → approval → grant → provisioned, through the API on the real broker.

Most tests run in a transaction that is rolled back: the reconciles that changes enqueue on commit never run
and the broker is not touched. The flow tests run them inline (celery_eager, on-commit callbacks executed)."""
from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest

from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.api_clients import assert_allowed_as_expected, call, client_as, matrix
from tests.factories import checkout_owners, person, topic_of
from tests.helpers import events
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.catalogue.clusters import default_cluster
from topics.kafka.adapter import produce, read_records
from topics.kafka.errors import KafkaAuthorizationError
from topics.models import AccessRequest, Grant, GrantSource, GrantState, RequestState, Topic
from topics.provisioning.principals import principal_for

pytestmark = pytest.mark.django_db


def signed_in(world, user):
    """A client of someone beyond the world's five people."""
    return client_as(replace(world, engineer=user), "engineer")


@pytest.fixture
def scene(world):
    """payments' namespace with a topic row (no broker), alice's pending request for it, an earlier request of
    hers already approved by bob (so she holds a grant), every world principal, and checkout's two owners."""
    owners_of_checkout = checkout_owners()
    for role in ("engineer", "owner", "auditor", "admin", "outsider", "service_account"):
        principal_for(world.user_for(role))  # a first GET would create them: keep reads free of writes
    cluster = default_cluster()
    topic_of(world.ns_payments, cluster)
    topic_of(world.ns_checkout, cluster)
    alice = principal_for(world.engineer)
    earlier = access.create_request(world.engineer, principal=alice, namespaces=[world.ns_payments],
                                    reason="incident 41", duration_days=7)
    access.decide(world.owner, earlier.items.get(), "approve", "ok")
    pending = access.create_request(world.engineer, principal=alice, namespaces=[world.ns_payments],
                                    reason="incident 42", duration_days=7)
    return SimpleNamespace(cluster=cluster, pending=pending, item=pending.items.get(),
                           grant=Grant.objects.get(principal=alice), checkout_owners=owners_of_checkout)


# --- authorization matrix ----------------------------------------------------------------------------------
# statuses in ROLES order: engineer, owner, auditor, admin, outsider, service_account, anonymous

REQUESTS = {
    "principal-list": lambda s: ("get", "/api/principals/", None),
    "request-list": lambda s: ("get", "/api/access-requests/", None),
    "request-retrieve": lambda s: ("get", f"/api/access-requests/{s.pending.pk}/", None),
    "request-create": lambda s: ("post", "/api/access-requests/", {
        "principal": "sa.payments-etl", "namespaces": ["checkout"], "reason": "nightly export", "duration_days": 7}),
    "request-withdraw": lambda s: ("post", f"/api/access-requests/{s.pending.pk}/withdraw/", None),
    "request-delete": lambda s: ("delete", f"/api/access-requests/{s.pending.pk}/", None),
    "approval-list": lambda s: ("get", "/api/approvals/", None),
    "item-retrieve": lambda s: ("get", f"/api/request-items/{s.item.pk}/", None),
    "item-decide": lambda s: ("post", f"/api/request-items/{s.item.pk}/decide/", {"decision": "approve",
                                                                                   "comment": "fine"}),
    "grant-list": lambda s: ("get", "/api/grants/", None),
    "grant-retrieve": lambda s: ("get", f"/api/grants/{s.grant.pk}/", None),
    "grant-create": lambda s: ("post", "/api/grants/", {"principal": "u.erin", "namespace": "payments", "days": 3,
                                                        "reason": "incident bridge"}),
    "grant-revoke": lambda s: ("post", f"/api/grants/{s.grant.pk}/revoke/", {"reason": "incident closed"}),
    "grant-release": lambda s: ("post", f"/api/grants/{s.grant.pk}/release/", None),
    "grant-delete": lambda s: ("delete", f"/api/grants/{s.grant.pk}/", None),
}

MATRIX = {
    "principal-list": (200, 200, 200, 200, 200, 200, 401),
    "request-list": (200, 200, 200, 200, 200, 200, 401),  # each sees their scope
    "request-retrieve": (200, 200, 200, 200, 404, 404, 401),
    # for payments' service account: payments' people and the account itself
    "request-create": (201, 201, 400, 400, 400, 201, 401),
    "request-withdraw": (200, 403, 403, 403, 404, 404, 401),  # the requester only
    "request-delete": (405, 405, 405, 405, 405, 405, 401),  # withdraw instead
    "approval-list": (200, 200, 200, 200, 200, 200, 401),
    "item-retrieve": (200, 200, 200, 200, 404, 404, 401),
    "item-decide": (403, 200, 403, 403, 404, 404, 401),  # payments' owners, never the requester
    "grant-list": (200, 200, 200, 200, 200, 200, 401),
    "grant-retrieve": (200, 200, 200, 200, 404, 404, 401),
    "grant-create": (403, 403, 403, 201, 403, 403, 401),
    "grant-revoke": (403, 200, 403, 200, 404, 404, 401),
    "grant-release": (200, 403, 403, 403, 404, 404, 401),  # the holder
    "grant-delete": (405, 405, 405, 405, 405, 405, 401),  # revoke or release instead
}


@pytest.mark.parametrize(("action", "role", "expected"), matrix(MATRIX))
def test_authorization_matrix(world, scene, action, role, expected):
    assert_allowed_as_expected(world, role, REQUESTS[action](scene), expected)


def test_the_api_root_and_schema_list_the_access_resources(world, client):
    root = client_as(world, "engineer").get("/api/").json()
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]

    assert {"principals", "access-requests", "approvals", "grants", "credentials", "reconcile-runs"} <= set(root)
    for path in ("/api/principals/", "/api/access-requests/{id}/withdraw/", "/api/approvals/",
                 "/api/request-items/{id}/decide/", "/api/grants/{id}/revoke/", "/api/grants/{id}/release/",
                 "/api/credentials/{id}/show-password/", "/api/credentials/{id}/client-config/",
                 "/api/credentials/rotate/", "/api/reconcile-runs/"):
        assert path in paths


# --- principals ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "expected"), [
    ("engineer", [("sa.payments-etl", "service_account"), ("u.alice", "person")]),
    ("outsider", [("u.erin", "person")]),
    ("service_account", [("sa.payments-etl", "service_account")]),
])
def test_principals_are_the_callers_own_and_their_teams_service_accounts(world, role, expected):
    body = client_as(world, role).get("/api/principals/").json()

    assert [(p["name"], p["kind"]) for p in body["results"]] == expected


# --- requests --------------------------------------------------------------------------------------------------

def test_requesting_access_through_the_api(world, scene):
    response = client_as(world, "engineer").post("/api/access-requests/", {
        "principal": "u.alice", "namespaces": ["payments", "checkout"], "reason": " nightly export ",
        "duration_days": 14}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("requester", "principal", "namespaces", "reason", "duration_days", "state")} == {
        "requester": "alice", "principal": "u.alice", "namespaces": ["checkout", "payments"],
        "reason": "nightly export", "duration_days": 14, "state": "pending"}
    assert [(i["namespace"], i["state"], i["approvals_required"], i["approvals"]) for i in body["items"]] == [
        ("checkout", "pending", 2, []), ("payments", "pending", 1, [])]  # checkout is highly sensitive
    assert body["grants"] == []
    event = AuditEvent.objects.get(action="request.create", target_id=str(body["id"]))
    assert event.actor_label == "alice" and event.data["namespaces"] == ["payments", "checkout"]


@pytest.mark.parametrize(("body", "field"), [
    ({"namespaces": ["nowhere"]}, "namespaces"),
    ({"namespaces": []}, "namespaces"),
    ({"namespaces": ["checkout"], "duration_days": 15}, "duration_days"),  # high: at most 14 days
    ({"duration_days": 31}, "duration_days"),
    ({"duration_days": 0}, "duration_days"),
    ({"duration_days": "a week"}, "duration_days"),
    ({"reason": ""}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"principal": "u.bob"}, "principal"),  # not the requester's
    ({"principal": "u.nobody"}, "principal"),
    ({"principal": None}, "principal"),
])
def test_bad_request_input_is_refused_by_field_and_saves_nothing(world, scene, body, field):
    requests, audited = AccessRequest.objects.count(), AuditEvent.objects.count()
    valid = {"principal": "u.alice", "namespaces": ["payments"], "reason": "incident 43", "duration_days": 7}

    response = client_as(world, "engineer").post("/api/access-requests/", {**valid, **body}, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert (AccessRequest.objects.count(), AuditEvent.objects.count()) == (requests, audited)


def test_request_detail_shows_decisions_and_grants(world, scene):
    earlier = scene.grant.request_item.request

    body = client_as(world, "owner").get(f"/api/access-requests/{earlier.pk}/").json()

    [item] = body["items"]
    assert (item["namespace"], item["state"], item["approvals_required"]) == ("payments", "approved", 1)
    assert [{k: a[k] for k in ("approver", "decision", "comment")} for a in item["approvals"]] == [
        {"approver": "bob", "decision": "approve", "comment": "ok"}]
    assert [(g["id"], g["principal"], g["topic"], g["cluster"], g["request"], g["granted_by"], g["state"])
            for g in body["grants"]] == [(scene.grant.pk, "u.alice", "logs.payments", scene.cluster.name, earlier.pk,
                                          "bob", "active")]


def test_withdrawing_is_audited_and_only_once(world, scene):
    alice = client_as(world, "engineer")

    first = alice.post(f"/api/access-requests/{scene.pending.pk}/withdraw/")
    second = alice.post(f"/api/access-requests/{scene.pending.pk}/withdraw/")

    assert first.status_code == 200 and first.json()["state"] == "withdrawn"
    assert [i["state"] for i in first.json()["items"]] == ["withdrawn"]
    assert second.status_code == 400 and "state" in second.json()
    assert len(events("request.withdraw")) == 1


@pytest.mark.parametrize(("role", "expected"), [
    ("engineer", ["incident 42", "incident 41"]),  # her own
    ("owner", ["bob's export", "incident 42", "incident 41"]),  # his own and those on payments, which he owns
    ("outsider", ["erin's export"]),
    ("auditor", ["erin's export", "bob's export", "incident 42", "incident 41"]),
    ("admin", ["erin's export", "bob's export", "incident 42", "incident 41"]),
    ("service_account", []),
])
def test_requests_are_listed_by_scope(world, scene, role, expected):
    access.create_request(world.owner, principal=principal_for(world.owner), namespaces=[world.ns_checkout],
                          reason="bob's export", duration_days=3)
    access.create_request(world.outsider, principal=principal_for(world.outsider), namespaces=[world.ns_checkout],
                          reason="erin's export", duration_days=3)

    body = client_as(world, role).get("/api/access-requests/").json()

    assert [r["reason"] for r in body["results"]] == expected


@pytest.mark.parametrize(("query", "expected"), [
    ({"state": "pending"}, ["checkout export", "incident 42"]),
    ({"state": "approved"}, ["incident 41"]),
    ({"namespace": "checkout"}, ["checkout export"]),
    ({"requester": "erin"}, ["checkout export"]),
    ({"principal": "u.alice"}, ["incident 42", "incident 41"]),
    ({"principal": "sa.payments-etl"}, []),
])
def test_requests_are_filtered(world, scene, query, expected):
    access.create_request(world.outsider, principal=principal_for(world.outsider), namespaces=[world.ns_checkout],
                          reason="checkout export", duration_days=3)

    response = client_as(world, "auditor").get("/api/access-requests/", query)

    assert response.status_code == 200, response.content
    assert [r["reason"] for r in response.json()["results"]] == expected


@pytest.mark.parametrize("query", [{"state": "lost"}, {"namespace": "nowhere"}, {"principal": "u.nobody"}])
def test_unknown_request_filter_values_are_refused_by_field(world, scene, query):
    response = client_as(world, "auditor").get("/api/access-requests/", query)

    assert response.status_code == 400 and set(response.json()) == set(query)


# --- approvals ---------------------------------------------------------------------------------------------------

def test_the_queue_holds_what_waits_for_me_until_i_decide(world, scene):
    chk = access.create_request(world.outsider, principal=principal_for(world.outsider),
                                namespaces=[world.ns_payments, world.ns_checkout], reason="joint incident",
                                duration_days=3)
    bob = client_as(world, "owner")

    queue = bob.get("/api/approvals/").json()["results"]
    decided = bob.post(f"/api/request-items/{scene.item.pk}/decide/", {"decision": "reject", "comment": "too broad"},
                       format="json")

    assert [(q["request"], q["requester"], q["principal"], q["namespace"], q["reason"]) for q in queue] == [
        (scene.pending.pk, "alice", "u.alice", "payments", "incident 42"),
        (chk.pk, "erin", "u.erin", "payments", "joint incident")]  # checkout is not bob's to decide
    assert decided.status_code == 200 and decided.json()["state"] == "rejected"
    assert decided.json()["approvals"][0]["comment"] == "too broad"
    assert [q["request"] for q in bob.get("/api/approvals/").json()["results"]] == [chk.pk]
    assert bob.get("/api/approvals/", {"requester": "alice"}).json()["results"] == []
    assert client_as(world, "engineer").get("/api/approvals/").json()["results"] == []  # nothing for alice
    [event] = events("request.reject")
    assert event.actor_label == "bob" and (event.data["namespace"], event.data["comment"]) == ("payments",
                                                                                              "too broad")


def test_an_approval_grants_and_is_audited(world, scene):
    response = client_as(world, "owner").post(f"/api/request-items/{scene.item.pk}/decide/",
                                              {"decision": "approve", "comment": "one more week"}, format="json")

    assert response.status_code == 200 and response.json()["state"] == "approved"
    detail = client_as(world, "engineer").get(f"/api/access-requests/{scene.pending.pk}/").json()
    assert detail["state"] == "approved" and [g["topic"] for g in detail["grants"]] == ["logs.payments"]
    granted = Grant.objects.get(request_item=scene.item)
    assert AuditEvent.objects.filter(action="request.approve", target_id=str(scene.pending.pk)).exists()
    assert AuditEvent.objects.filter(action="grant.create", target_id=str(granted.pk), actor_label="bob").exists()


def test_two_approvers_for_a_sensitive_namespace(world, scene):
    second_owner, third_owner = scene.checkout_owners
    request = access.create_request(world.engineer, principal=principal_for(world.engineer),
                                    namespaces=[world.ns_checkout], reason="checkout incident", duration_days=3)
    url = f"/api/request-items/{request.items.get().pk}/decide/"
    body = {"decision": "approve", "comment": "ok"}

    first = call(signed_in(world, second_owner), "post", url, body)
    again = call(signed_in(world, second_owner), "post", url, body)
    second = call(signed_in(world, third_owner), "post", url, body)

    assert first.status_code == 200 and first.json()["state"] == "pending"
    assert again.status_code == 400 and "already decided" in again.json()["decision"][0]
    assert second.status_code == 200 and second.json()["state"] == "approved"
    assert [a["approver"] for a in second.json()["approvals"]] == ["olga", "oscar"]


@pytest.mark.parametrize(("body", "field"), [
    ({"decision": "approve"}, "comment"),
    ({"decision": "approve", "comment": "  "}, "comment"),
    ({"decision": "maybe", "comment": "hm"}, "decision"),
    ({"comment": "hm"}, "decision"),
])
def test_bad_decisions_are_refused_by_field_and_save_nothing(world, scene, body, field):
    audited = AuditEvent.objects.count()

    response = client_as(world, "owner").post(f"/api/request-items/{scene.item.pk}/decide/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert AuditEvent.objects.count() == audited and not scene.item.approvals.exists()


def test_items_say_who_may_still_decide(world, scene):
    request = access.create_request(world.engineer, principal=principal_for(world.engineer),
                                    namespaces=[world.ns_checkout, world.ns_payments], reason="both", duration_days=3)
    olga = scene.checkout_owners[0]
    access.decide(olga, request.items.get(namespace=world.ns_checkout), "approve", "first of two")

    detail = client_as(world, "engineer").get(f"/api/access-requests/{request.pk}/").json()
    assert [(i["namespace"], i["deciders_left"]) for i in detail["items"]] == [
        ("checkout", ["oscar"]), ("payments", ["bob"])]
    [queued] = call(signed_in(world, scene.checkout_owners[1]), "get", "/api/approvals/").json()["results"]
    assert queued["deciders_left"] == ["oscar"]
    done = client_as(world, "engineer").get(f"/api/access-requests/{scene.grant.request_item.request_id}/").json()
    assert done["items"][0]["deciders_left"] == []  # approved: nobody decides any more


def test_an_owner_sees_only_the_items_on_their_namespaces_and_others_are_404(world, scene):
    request = access.create_request(world.engineer, principal=principal_for(world.engineer),
                                    namespaces=[world.ns_checkout, world.ns_payments], reason="both", duration_days=3)
    olga = signed_in(world, scene.checkout_owners[0])

    detail = call(olga, "get", f"/api/access-requests/{request.pk}/").json()
    assert [i["namespace"] for i in detail["items"]] == ["checkout"] and detail["namespaces"] == ["checkout"]
    payments_item = request.items.get(namespace=world.ns_payments)
    missing = call(olga, "get", "/api/request-items/999999/")
    hidden = call(olga, "get", f"/api/request-items/{payments_item.pk}/")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json()) == (404, missing.json())
    forged = call(olga, "post", f"/api/request-items/{payments_item.pk}/decide/", {"decision": "approve",
                                                                                   "comment": "not mine"})
    assert forged.status_code == 404 and not payments_item.approvals.exists()


def test_a_decided_item_cannot_be_decided_again(world, scene):
    earlier_item = scene.grant.request_item
    second_owner = person("pat", "team-payments", "logwarden-owners")

    response = call(signed_in(world, second_owner), "post", f"/api/request-items/{earlier_item.pk}/decide/",
                    {"decision": "reject", "comment": "no"})

    assert response.status_code == 400 and "decision" in response.json()
    assert earlier_item.approvals.count() == 1


def test_nobody_approves_a_request_they_made(world, scene):
    person("pat", "team-payments", "logwarden-owners")  # another owner of payments, who may decide it
    own = access.create_request(world.owner, principal=principal_for(world.owner),
                                namespaces=[world.ns_payments], reason="export", duration_days=3)

    response = client_as(world, "owner").post(f"/api/request-items/{own.items.get().pk}/decide/",
                                              {"decision": "approve", "comment": "mine"}, format="json")

    assert response.status_code == 403 and "may not decide" in response.json()["detail"]


# --- grants --------------------------------------------------------------------------------------------------------

def test_grants_are_listed_by_scope_and_filtered(world, scene):
    etl = access.grant_directly(world.admin, principal=principal_for(world.service_account.user),
                                topic=world.ns_payments.topics.get(), days=3, reason="export")
    erin = access.grant_directly(world.admin, principal=principal_for(world.outsider),
                                 topic=world.ns_checkout.topics.get(), days=3, reason="checkout bridge")

    def listed(role: str, **query) -> list[int]:
        response = client_as(world, role).get("/api/grants/", query)
        assert response.status_code == 200, response.content
        return sorted(g["id"] for g in response.json()["results"])

    assert listed("engineer") == sorted([scene.grant.pk, etl.pk])  # hers and her team's service account's
    assert listed("owner") == sorted([scene.grant.pk, etl.pk])  # on payments, which bob owns
    assert listed("outsider") == [erin.pk]
    assert listed("service_account") == [etl.pk]
    assert listed("auditor") == sorted([scene.grant.pk, etl.pk, erin.pk])
    assert listed("auditor", namespace="checkout") == [erin.pk]
    assert listed("auditor", principal="sa.payments-etl") == [etl.pk]
    assert listed("auditor", source="admin") == sorted([etl.pk, erin.pk])
    assert listed("auditor", source="request") == [scene.grant.pk]
    assert listed("auditor", cluster=scene.cluster.name) == sorted([scene.grant.pk, etl.pk, erin.pk])
    assert listed("auditor", state="revoked") == []
    bad = client_as(world, "auditor").get("/api/grants/", {"cluster": "nowhere", "source": "luck"})
    assert bad.status_code == 400 and set(bad.json()) == {"cluster", "source"}


def test_revoking_needs_a_reason_and_is_audited(world, scene):
    bob = client_as(world, "owner")

    refused = bob.post(f"/api/grants/{scene.grant.pk}/revoke/", {"reason": ""}, format="json")
    revoked = bob.post(f"/api/grants/{scene.grant.pk}/revoke/", {"reason": "incident closed"}, format="json")
    again = bob.post(f"/api/grants/{scene.grant.pk}/revoke/", {"reason": "twice"}, format="json")

    assert refused.status_code == 400 and "reason" in refused.json()
    assert revoked.status_code == 200 and (revoked.json()["state"], revoked.json()["ended_by"],
                                           revoked.json()["end_reason"]) == ("revoked", "bob", "incident closed")
    assert again.status_code == 400 and "state" in again.json()
    [event] = events("grant.revoke")
    assert event.actor_label == "bob" and event.data["reason"] == "incident closed"


def test_the_holder_releases(world, scene):
    response = client_as(world, "engineer").post(f"/api/grants/{scene.grant.pk}/release/")

    assert response.status_code == 200 and response.json()["state"] == "released"
    assert Grant.objects.get(pk=scene.grant.pk).state == GrantState.RELEASED
    assert events("grant.release")[0].actor_label == "alice"


def test_an_admin_grants_directly_by_namespace_or_topic(world, scene):
    admin = client_as(world, "admin")

    by_namespace = admin.post("/api/grants/", {"principal": "sa.payments-etl", "namespace": "payments", "days": 5,
                                               "reason": "backfill"}, format="json")
    by_topic = admin.post("/api/grants/", {"principal": "u.erin", "topic": world.ns_checkout.topics.get().pk,
                                           "days": 1, "reason": "incident bridge"}, format="json")

    assert by_namespace.status_code == 201, by_namespace.content
    body = by_namespace.json()
    assert (body["principal"], body["topic"], body["source"], body["granted_by"], body["request"]) == (
        "sa.payments-etl", "logs.payments", GrantSource.ADMIN, "dave", None)
    assert by_topic.status_code == 201 and by_topic.json()["namespace"] == "checkout"
    assert sorted(e.data["reason"] for e in events("grant.create") if e.actor_label == "dave") == [
        "backfill", "incident bridge"]


@pytest.mark.parametrize(("change", "field"), [
    (lambda w: {"namespace": "nowhere"}, "namespace"),
    (lambda w: {"namespace": None, "topic": 0}, "topic"),
    (lambda w: {"namespace": None}, "namespace"),  # neither
    (lambda w: {"topic": w.ns_payments.topics.get().pk}, "namespace"),  # both
    (lambda w: {"days": 0}, "days"),
    (lambda w: {"days": 31}, "days"),  # standard: at most 30 days
    (lambda w: {"days": 10 ** 9}, "days"),
    (lambda w: {"reason": " "}, "reason"),
    (lambda w: {"principal": "u.nobody"}, "principal"),
])
def test_bad_direct_grants_are_refused_by_field_and_save_nothing(world, scene, change, field):
    grants, audited = Grant.objects.count(), AuditEvent.objects.count()
    body = {"principal": "u.erin", "namespace": "payments", "days": 3, "reason": "incident bridge", **change(world)}

    response = client_as(world, "admin").post("/api/grants/", {k: v for k, v in body.items() if v is not None},
                                              format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert (Grant.objects.count(), AuditEvent.objects.count()) == (grants, audited)


def test_a_namespace_without_a_topic_needs_one(world, scene):
    Topic.objects.filter(namespace=world.ns_checkout).delete()

    response = client_as(world, "admin").post("/api/grants/", {"principal": "u.erin", "namespace": "checkout",
                                                               "days": 3, "reason": "x"}, format="json")

    assert response.status_code == 400 and "no topic yet" in response.json()["namespace"][0]


# --- the whole flow on the real broker -------------------------------------------------------------------------------

@pytest.mark.kafka
def test_request_approve_provision_read_revoke_through_the_api(
        world, unique, kafka_connection, celery_eager, django_capture_on_commit_callbacks):
    """A new person asks, bob approves, the reconcile provisions; she shows her password once and reads the
    topic; bob revokes and she can read no more."""
    requester = person(f"a{unique}", "team-payments")
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"api-{unique}", owner_team=world.payments)
    topic = namespace.topics.get().name
    produce(kafka_connection, topic, [b'{"log": "GET /health 200\\n"}'])
    her, bob = signed_in(world, requester), client_as(world, "owner")

    asked = her.post("/api/access-requests/", {"principal": f"u.{requester.username}", "namespaces": [namespace.name],
                                               "reason": "debug a failing payment", "duration_days": 2},
                     format="json")
    assert asked.status_code == 201, asked.content
    [waiting] = [q for q in bob.get("/api/approvals/").json()["results"] if q["request"] == asked.json()["id"]]
    with django_capture_on_commit_callbacks(execute=True):
        approved = bob.post(f"/api/request-items/{waiting['id']}/decide/", {"decision": "approve",
                                                                           "comment": "two days"}, format="json")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"

    [credential] = her.get("/api/credentials/").json()["results"]
    assert credential["state"] == "active" and credential["has_pending_password"] is True
    shown = her.post(f"/api/credentials/{credential['id']}/show-password/")
    assert shown.status_code == 200, shown.content
    as_her = kafka_connection.as_user(credential["username"], shown.json()["password"])
    assert read_records(as_her, topic, group=f"{credential['group_prefix']}debug") == [
        b'{"log": "GET /health 200\\n"}']

    [grant] = her.get("/api/grants/", {"namespace": namespace.name}).json()["results"]
    with django_capture_on_commit_callbacks(execute=True):
        revoked = bob.post(f"/api/grants/{grant['id']}/revoke/", {"reason": "fixed"}, format="json")
    assert revoked.status_code == 200
    with pytest.raises(KafkaAuthorizationError):
        read_records(as_her, topic, group=f"{credential['group_prefix']}again")

    runs = client_as(world, "auditor").get("/api/reconcile-runs/", {"cluster": namespace.topics.get().cluster.name})
    assert runs.json()["results"][0]["succeeded"] is True
    trail = json.dumps(list(AuditEvent.objects.values_list("data", flat=True)))
    assert shown.json()["password"] not in trail
    assert {"request.create", "request.approve", "grant.create", "credential.display", "grant.revoke"} <= set(
        AuditEvent.objects.values_list("action", flat=True))
    assert AccessRequest.objects.get(pk=asked.json()["id"]).state == RequestState.APPROVED
