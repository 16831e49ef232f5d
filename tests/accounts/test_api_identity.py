"""The identity API: teams, group mappings, service accounts and their tokens — who may do what, what bad
input gets, and the audit trail every change leaves. Against the real PostgreSQL, never mocked."""
from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import ApiToken, GroupMapping, Notification, ServiceAccount, Team
from accounts.services import service_accounts, tokens
from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.api_clients import assert_allowed_as_expected, client_as, matrix
from tests.helpers import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def extra(world):
    """A team without service accounts, checkout's own service account, and a spare token of payments-etl."""
    return SimpleNamespace(
        empty_team=Team.objects.create(slug="search", name="Search"),
        checkout_bot=service_accounts.create(SYSTEM, name="checkout-bot", team=world.checkout),
        spare=tokens.issue(SYSTEM, world.service_account, name="spare", expires_at=None).token,
        mapping=GroupMapping.objects.get(ldap_group="team-checkout"),
        notice=Notification.objects.create(recipient=world.owner, subject="Review due"),
    )


# --- authorization matrices --------------------------------------------------------------------------------
# statuses in ROLES order: engineer, owner, auditor, admin, outsider, service_account, anonymous

REQUESTS = {
    "team-list": lambda w, x: ("get", "/api/teams/", None),
    "team-retrieve": lambda w, x: ("get", "/api/teams/payments/", None),
    "team-create": lambda w, x: ("post", "/api/teams/", {"slug": "billing", "name": "Billing"}),
    "team-update": lambda w, x: ("patch", "/api/teams/checkout/", {"name": "Checkout web"}),
    "team-delete": lambda w, x: ("delete", "/api/teams/search/", None),
    "mapping-list": lambda w, x: ("get", "/api/group-mappings/", None),
    "mapping-retrieve": lambda w, x: ("get", f"/api/group-mappings/{x.mapping.pk}/", None),
    "mapping-create": lambda w, x: ("post", "/api/group-mappings/", {"ldap_group": "sre", "team": "checkout"}),
    "mapping-delete": lambda w, x: ("delete", f"/api/group-mappings/{x.mapping.pk}/", None),
    "account-list": lambda w, x: ("get", "/api/service-accounts/", None),
    "account-retrieve": lambda w, x: ("get", "/api/service-accounts/payments-etl/", None),
    "account-create": lambda w, x: ("post", "/api/service-accounts/", {"name": "payments-report", "team": "payments"}),
    "account-disable": lambda w, x: ("patch", "/api/service-accounts/payments-etl/", {"is_active": False}),
    "token-list": lambda w, x: ("get", "/api/service-accounts/payments-etl/tokens/", None),
    "token-retrieve": lambda w, x: ("get", f"/api/service-accounts/payments-etl/tokens/{x.spare.prefix}/", None),
    "token-issue": lambda w, x: ("post", "/api/service-accounts/payments-etl/tokens/", {"name": "airflow"}),
    "token-revoke": lambda w, x: ("post", f"/api/service-accounts/payments-etl/tokens/{x.spare.prefix}/revoke/",
                                  None),
    "notification-list": lambda w, x: ("get", "/api/notifications/", None),
    "notification-retrieve": lambda w, x: ("get", f"/api/notifications/{x.notice.pk}/", None),
    "notification-mark-read": lambda w, x: ("post", "/api/notifications/mark-read/", None),
}

MATRIX = {
    "team-list": (200, 200, 200, 200, 200, 200, 401),
    "team-retrieve": (200, 200, 200, 200, 200, 200, 401),
    "team-create": (403, 403, 403, 201, 403, 403, 401),
    "team-update": (403, 403, 403, 200, 403, 403, 401),
    "team-delete": (403, 403, 403, 204, 403, 403, 401),
    "mapping-list": (403, 403, 200, 200, 403, 403, 401),
    "mapping-retrieve": (403, 403, 200, 200, 403, 403, 401),
    "mapping-create": (403, 403, 403, 201, 403, 403, 401),
    "mapping-delete": (403, 403, 403, 204, 403, 403, 401),
    # payments-etl is invisible to erin (checkout): 404, not 403
    "account-list": (200, 200, 200, 200, 200, 200, 401),
    "account-retrieve": (200, 200, 200, 200, 404, 200, 401),
    "account-create": (201, 201, 403, 201, 403, 403, 401),
    "account-disable": (200, 200, 403, 200, 404, 403, 401),
    "token-list": (200, 200, 200, 200, 404, 200, 401),
    "token-retrieve": (200, 200, 200, 200, 404, 200, 401),
    "token-issue": (201, 201, 403, 201, 404, 403, 401),
    "token-revoke": (200, 200, 403, 200, 404, 403, 401),
    # each sees only their own notifications: bob's is a 404 to everyone else
    "notification-list": (200, 200, 200, 200, 200, 200, 401),
    "notification-retrieve": (404, 200, 404, 404, 404, 404, 401),
    "notification-mark-read": (200, 200, 200, 200, 200, 200, 401),
}


@pytest.mark.parametrize(("action", "role", "expected"), matrix(MATRIX))
def test_authorization_matrix(world, extra, action, role, expected):
    assert_allowed_as_expected(world, role, REQUESTS[action](world, extra), expected)


def test_anonymous_gets_a_bearer_challenge(world):
    response = client_as(world, "anonymous").get("/api/teams/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("role", "visible"), [
    ("engineer", ["payments-etl"]), ("owner", ["payments-etl"]),
    ("auditor", ["checkout-bot", "payments-etl"]), ("admin", ["checkout-bot", "payments-etl"]),
    ("outsider", ["checkout-bot"]), ("service_account", ["payments-etl"]),
])
def test_service_accounts_listed_are_those_the_role_may_see(world, extra, role, visible):
    service_accounts.create(SYSTEM, name="payments-report", team=world.payments)
    if role in ("engineer", "owner", "auditor", "admin"):
        visible = sorted([*visible, "payments-report"])

    response = client_as(world, role).get("/api/service-accounts/")

    assert [a["name"] for a in response.json()["results"]] == visible


# --- teams -------------------------------------------------------------------------------------------------

def test_team_detail_names_members_and_service_accounts(world):
    body = client_as(world, "outsider").get("/api/teams/payments/").json()

    assert body["members"] == ["alice", "bob"]
    assert body["service_accounts"] == ["payments-etl"]


def test_teams_are_filtered_and_paginated(world):
    body = client_as(world, "engineer").get("/api/teams/", {"q": "CHECK"}).json()

    assert body["count"] == 1 and [t["slug"] for t in body["results"]] == ["checkout"]


def test_team_changes_are_audited(world, extra):
    admin = client_as(world, "admin")

    admin.post("/api/teams/", {"slug": "billing", "name": "Billing"}, format="json")
    admin.patch("/api/teams/billing/", {"name": "Billing & invoices", "slug": "renamed"}, format="json")
    admin.delete("/api/teams/billing/")

    [create] = events("team.create")
    created_at = create.data.pop("created_at")
    assert created_at and create.actor_label == "dave"
    assert create.data == {"slug": "billing", "name": "Billing", "description": ""}
    [update] = events("team.update")
    assert update.data == {"changes": {"name": {"from": "Billing", "to": "Billing & invoices"}}}
    assert events("team.delete")[0].target_label == "Billing & invoices"
    assert not Team.objects.filter(slug__in=["billing", "renamed"]).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"slug": "payments", "name": "Again"}, "slug"),
    ({"slug": "Payments_2", "name": "Caps"}, "slug"),
    ({"slug": "x" * 64, "name": "Long"}, "slug"),
    ({"slug": "billing"}, "name"),
])
def test_bad_team_input_is_refused_by_field(world, body, field):
    teams = Team.objects.count()

    response = client_as(world, "admin").post("/api/teams/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert Team.objects.count() == teams and not events("team.create")


def test_a_team_with_service_accounts_cannot_be_deleted(world):
    response = client_as(world, "admin").delete("/api/teams/payments/")

    assert response.status_code == 409
    assert "service accounts" in response.json()["detail"]
    assert Team.objects.filter(slug="payments").exists() and not events("team.delete")


def test_a_team_that_owns_namespaces_or_mappings_cannot_be_deleted(world):
    admin = client_as(world, "admin")

    response = admin.delete("/api/teams/checkout/")  # owns namespace checkout, mapped from team-checkout

    assert response.status_code == 409
    assert "namespaces" in response.json()["detail"] and "group mappings" in response.json()["detail"]
    assert world.ns_checkout.owner_team.slug == "checkout" and not events("team.delete")


# --- group mappings ----------------------------------------------------------------------------------------

def test_group_mapping_changes_are_audited(world):
    admin = client_as(world, "admin")

    created = admin.post("/api/group-mappings/", {"ldap_group": "sre", "role": "auditor"}, format="json").json()
    admin.delete(f"/api/group-mappings/{created['id']}/")

    assert created == {"id": created["id"], "ldap_group": "sre", "team": None, "role": "auditor"}
    assert events("group_mapping.create")[0].data == {"ldap_group": "sre", "team": None, "role": "auditor"}
    assert events("group_mapping.delete")[0].actor_label == "dave"
    assert not GroupMapping.objects.filter(ldap_group="sre").exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"ldap_group": "sre"}, "non_field_errors"),  # maps to nothing: refused by the service's full_clean
    ({"ldap_group": "sre", "team": "nope"}, "team"),
    ({"ldap_group": "sre", "role": "king"}, "role"),
    ({"ldap_group": "team-payments", "team": "payments"}, "non_field_errors"),  # already mapped
])
def test_bad_group_mapping_input_is_refused_by_field(world, body, field):
    mappings = GroupMapping.objects.count()

    response = client_as(world, "admin").post("/api/group-mappings/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert GroupMapping.objects.count() == mappings and not events("group_mapping.create")


def test_group_mappings_are_filtered(world):
    body = client_as(world, "auditor").get("/api/group-mappings/", {"role": "platform_admin"}).json()

    assert [m["ldap_group"] for m in body["results"]] == ["logwarden-admins"]


# --- service accounts ----------------------------------------------------------------------------------------

def test_engineer_creates_a_service_account_for_their_team(world):
    response = client_as(world, "engineer").post(
        "/api/service-accounts/", {"name": "payments-report", "team": "payments", "description": "reports"},
        format="json")

    assert response.status_code == 201
    assert response.json() | {"created_at": None} == {
        "name": "payments-report", "team": "payments", "description": "reports", "is_active": True,
        "created_by": "alice", "created_at": None}
    account = ServiceAccount.objects.get(name="payments-report")
    assert account.user.username == "sa:payments-report" and not account.user.has_usable_password()
    assert events("service_account.create")[0].actor_label == "alice"


def test_engineer_cannot_create_a_service_account_for_another_team(world):
    response = client_as(world, "engineer").post(
        "/api/service-accounts/", {"name": "sneaky", "team": "checkout"}, format="json")

    assert response.status_code == 403
    assert not ServiceAccount.objects.filter(name="sneaky").exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "payments-etl", "team": "payments"}, "name"),
    ({"name": "Payments_ETL", "team": "payments"}, "name"),
    ({"name": "x" * 64, "team": "payments"}, "name"),
    ({"name": "orphan", "team": "no-such-team"}, "team"),
    ({"name": "orphan"}, "team"),
])
def test_bad_service_account_input_is_refused_by_field(world, body, field):
    accounts = ServiceAccount.objects.count()

    response = client_as(world, "admin").post("/api/service-accounts/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert ServiceAccount.objects.count() == accounts and not events("service_account.create")


def test_disabling_a_service_account_stops_its_token_and_is_audited(world):
    owner = client_as(world, "owner")

    response = owner.patch("/api/service-accounts/payments-etl/", {"is_active": False}, format="json")

    assert response.status_code == 200 and response.json()["is_active"] is False
    refused = client_as(world, "service_account").get("/api/teams/")
    assert refused.status_code == 401 and refused.json()["detail"] == "Token refused: service account disabled."
    owner.patch("/api/service-accounts/payments-etl/", {"is_active": True}, format="json")
    assert client_as(world, "service_account").get("/api/teams/").status_code == 200
    assert [e.action for e in AuditEvent.objects.filter(target_type="accounts.serviceaccount",
                                                        actor_label="bob").order_by("sequence")] == [
        "service_account.disable", "service_account.enable"]


def test_service_accounts_are_filtered(world, extra):
    body = client_as(world, "admin").get("/api/service-accounts/", {"team": "checkout"}).json()

    assert [a["name"] for a in body["results"]] == ["checkout-bot"]


# --- tokens ------------------------------------------------------------------------------------------------

def test_issued_token_is_shown_once_works_and_never_reaches_the_audit_trail(world):
    engineer = client_as(world, "engineer")
    expires = timezone.now() + timedelta(days=30)

    response = engineer.post("/api/service-accounts/payments-etl/tokens/",
                             {"name": "airflow", "expires_at": expires.isoformat()}, format="json")

    assert response.status_code == 201
    issued = response.json()
    secret = issued["token"]
    assert secret.startswith(f"lw_{issued['prefix']}_")
    assert set(issued) == {"prefix", "name", "created_at", "expires_at", "revoked_at", "last_used_at", "token"}
    digest = ApiToken.objects.get(prefix=issued["prefix"]).digest
    listed = engineer.get("/api/service-accounts/payments-etl/tokens/")
    shown = engineer.get(f"/api/service-accounts/payments-etl/tokens/{issued['prefix']}/")
    for later in (listed, shown):
        assert later.status_code == 200
        assert secret not in later.content.decode() and digest not in later.content.decode()
    assert "token" not in shown.json()
    [event] = events("token.issue")
    assert event.actor_label == "alice" and event.data["name"] == "airflow"
    assert not [e for e in AuditEvent.objects.all() if secret in json.dumps(e.data)]

    program = client_as(world, "anonymous")
    program.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert program.get("/api/service-accounts/").json()["results"][0]["name"] == "payments-etl"


def test_token_list_never_shows_secrets_or_digests(world):
    body = client_as(world, "auditor").get("/api/service-accounts/payments-etl/tokens/").json()

    assert [set(t) for t in body["results"]] == [
        {"prefix", "name", "created_at", "expires_at", "revoked_at", "last_used_at"}]


def test_revoking_a_token_is_audited_and_the_token_is_then_refused(world):
    prefix = ApiToken.objects.get(service_account=world.service_account).prefix

    response = client_as(world, "owner").post(f"/api/service-accounts/payments-etl/tokens/{prefix}/revoke/")

    assert response.status_code == 200 and response.json()["revoked_at"] is not None
    assert events("token.revoke")[0].actor_label == "bob"
    refused = client_as(world, "service_account").get("/api/namespaces/")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Token refused: token revoked."}
    listed = client_as(world, "engineer").get("/api/service-accounts/payments-etl/tokens/", {"revoked": "true"})
    assert [t["prefix"] for t in listed.json()["results"]] == [prefix]


def test_expired_token_is_refused(world):
    ApiToken.objects.filter(service_account=world.service_account).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    response = client_as(world, "service_account").get("/api/namespaces/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Token refused: token expired."}


@pytest.mark.parametrize("header", ["Bearer lw_nope", "Bearer", "Bearer a b"])
def test_malformed_or_unknown_tokens_are_refused(world, header):
    client = client_as(world, "anonymous")
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/namespaces/")

    assert response.status_code == 401 and response.json()["detail"]


def test_token_use_updates_last_used_at(world):
    token = ApiToken.objects.get(service_account=world.service_account)
    assert token.last_used_at is None

    assert client_as(world, "service_account").get("/api/teams/").status_code == 200

    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(seconds=30)


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "late", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ({"name": "odd", "expires_at": "tomorrow"}, "expires_at"),
    ({"expires_at": None}, "name"),
    ({"name": "x" * 101}, "name"),
])
def test_bad_token_input_is_refused_by_field(world, body, field):
    tokens_before = ApiToken.objects.count()

    response = client_as(world, "admin").post("/api/service-accounts/payments-etl/tokens/", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert ApiToken.objects.count() == tokens_before and not events("token.issue")
