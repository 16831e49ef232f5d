"""The web pages of identity: teams, service accounts and their tokens, group mappings. Each role sees what it
may; forbidden actions are a 403; every change is audited."""
from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from accounts.models import ApiToken, GroupMapping, Role, ServiceAccount
from accounts.services import tokens
from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from tests.helpers import PEOPLE, actions, html

pytestmark = pytest.mark.django_db


# --- teams ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", PEOPLE)
def test_team_list_for_every_role(as_role, role):
    response = as_role(role).get("/teams/")
    page = html(response)
    assert response.status_code == 200
    assert 'href="/teams/payments/"' in page and 'href="/teams/checkout/"' in page
    assert "<code>team-payments</code>" in page


def test_team_list_search(as_role):
    page = html(as_role("engineer").get("/teams/", {"q": "check"}))
    assert 'href="/teams/checkout/"' in page and 'href="/teams/payments/"' not in page


@pytest.mark.parametrize(("role", "sees_accounts", "manages"), [
    ("engineer", True, True), ("owner", True, True), ("admin", True, True),
    ("auditor", True, False), ("outsider", False, False),
])
def test_team_page_shows_members_namespaces_and_what_the_role_may_see(as_role, world, role, sees_accounts,
                                                                      manages):
    prefix = world.service_account.tokens.get().prefix

    response = as_role(role).get("/teams/payments/")

    page = html(response)
    assert response.status_code == 200
    assert "alice@logwarden.test" in page and "bob@logwarden.test" in page
    assert "erin@logwarden.test" not in page
    assert 'href="/namespaces/payments/"' in page and 'href="/namespaces/checkout/"' not in page
    assert ("payments-etl" in page and f"{prefix}…" in page) is sees_accounts
    assert ("Create a service account" in page) is manages
    assert ("Issue a token" in page) is manages
    assert ("/revoke/" in page) is manages


def test_team_member_creates_a_service_account_and_it_is_audited(as_role, world):
    response = as_role("engineer").post("/teams/payments/service-accounts/",
                                        {"name": "payments-report", "description": "Nightly report"})

    assert response.status_code == 302
    account = ServiceAccount.objects.get(name="payments-report")
    assert account.team == world.payments and account.created_by == world.engineer
    event = AuditEvent.objects.get(action="service_account.create", target_id=str(account.pk))
    assert event.actor == world.engineer


@pytest.mark.parametrize(("name", "message"), [("Not A Slug", "Use lowercase"), ("payments-etl", "already exists")])
def test_service_account_form_errors_keep_the_input(as_role, name, message):
    response = as_role("engineer").post("/teams/payments/service-accounts/",
                                        {"name": name, "description": "still here"})

    assert response.status_code == 200
    form = response.context["account_form"]
    assert message in form.errors["name"][0]
    assert f'value="{name}"' in html(response) and 'value="still here"' in html(response)
    assert ServiceAccount.objects.count() == 1


@pytest.mark.parametrize("role", ["outsider", "auditor"])
def test_people_outside_the_team_cannot_create_accounts_or_issue_or_revoke_tokens(as_role, world, role):
    client = as_role(role)
    token = world.service_account.tokens.get()

    create = client.post("/teams/payments/service-accounts/", {"name": "intruder"})
    issue = client.post("/teams/payments/service-accounts/payments-etl/tokens/", {"name": "stolen"})
    revoke = client.post(f"/teams/payments/tokens/{token.prefix}/revoke/")
    confirm = client.get(f"/teams/payments/tokens/{token.prefix}/revoke/")

    assert [r.status_code for r in (create, issue, revoke, confirm)] == [403, 403, 403, 403]
    assert not ServiceAccount.objects.filter(name="intruder").exists()
    assert ApiToken.objects.count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_token_is_shown_once_and_never_again(as_role, world):
    client = as_role("engineer")
    expires_on = timezone.localdate() + datetime.timedelta(days=30)

    response = client.post("/teams/payments/service-accounts/payments-etl/tokens/",
                           {"name": "airflow", "expires_on": expires_on.isoformat()})

    assert response.status_code == 200  # rendered by the POST itself: no redirect, nothing in a URL
    assert "no-store" in response["Cache-Control"]
    secret = re.search(r'value="(lw_[A-Za-z0-9_-]+)"', html(response)).group(1)
    assert tokens.authenticate(secret) == world.service_account
    token = ApiToken.objects.get(name="airflow")
    assert token.expires_at == timezone.make_aware(datetime.datetime.combine(expires_on, datetime.time.min))

    again = html(client.get("/teams/payments/"))
    assert token.prefix in again and secret not in again and secret.split("_", 2)[2] not in again
    event = AuditEvent.objects.get(action="token.issue", target_id=str(token.pk))
    assert event.actor == world.engineer and secret not in str(event.data)


@pytest.mark.parametrize(("expires_on", "message"), [("2001-01-01", "Choose a day after today."),
                                                     ("not-a-date", "Enter a valid date.")])
def test_token_form_errors_are_shown_on_that_accounts_form(as_role, expires_on, message):
    before = actions()

    response = as_role("engineer").post("/teams/payments/service-accounts/payments-etl/tokens/",
                                        {"name": "airflow", "expires_on": expires_on})

    assert response.status_code == 200
    page = html(response)
    assert "<details open>" in page and message in page
    assert 'id="id_token_payments-etl_name"' in page and 'value="airflow"' in page
    assert not ApiToken.objects.filter(name="airflow").exists()
    assert actions() == before


def test_revoking_a_token_asks_first_and_is_audited(as_role, world):
    client = as_role("owner")
    token = world.service_account.tokens.get()

    confirm = client.get(f"/teams/payments/tokens/{token.prefix}/revoke/")
    assert confirm.status_code == 200 and "Revoke token" in html(confirm)
    token.refresh_from_db()
    assert token.revoked_at is None  # a GET changes nothing

    response = client.post(f"/teams/payments/tokens/{token.prefix}/revoke/")

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(tokens.TokenRejected):
        tokens.authenticate(world.token)
    assert AuditEvent.objects.get(action="token.revoke").actor == world.owner
    assert "Revoked" in html(client.get("/teams/payments/"))


def test_a_token_of_another_team_is_404_on_this_teams_url(as_role, world):
    account = world.service_account
    other = tokens.issue(SYSTEM, account, name="other", expires_at=None).token
    assert as_role("outsider").post(f"/teams/checkout/tokens/{other.prefix}/revoke/").status_code == 404


# --- group mappings -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["engineer", "owner", "auditor", "outsider"])
def test_only_admins_see_or_change_mappings(as_role, world, role):
    client = as_role(role)
    mapping = GroupMapping.objects.get(ldap_group="team-payments")

    responses = [client.get("/teams/mappings/"),
                 client.post("/teams/mappings/", {"ldap_group": "x", "role": Role.PLATFORM_ADMIN}),
                 client.post(f"/teams/mappings/{mapping.pk}/delete/")]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert GroupMapping.objects.count() == 5


def test_admin_lists_filters_adds_and_deletes_mappings_all_audited(as_role, world):
    client = as_role("admin")
    page = html(client.get("/teams/mappings/"))
    assert "<code>logwarden-admins</code>" in page and "Platform admin" in page
    filtered = html(client.get("/teams/mappings/", {"role": Role.AUDITOR}))
    assert "<code>logwarden-auditors</code>" in filtered and "<code>team-payments</code>" not in filtered

    added = client.post("/teams/mappings/", {"ldap_group": "payments-oncall", "team": world.payments.pk,
                                             "role": Role.NAMESPACE_OWNER})
    assert added.status_code == 302
    mapping = GroupMapping.objects.get(ldap_group="payments-oncall")
    assert (mapping.team, mapping.role) == (world.payments, Role.NAMESPACE_OWNER)

    confirm = client.get(f"/teams/mappings/{mapping.pk}/delete/")
    assert confirm.status_code == 200 and "payments-oncall" in html(confirm)
    assert client.post(f"/teams/mappings/{mapping.pk}/delete/").status_code == 302
    assert not GroupMapping.objects.filter(ldap_group="payments-oncall").exists()

    created, deleted = (AuditEvent.objects.get(action=a) for a in ("group_mapping.create", "group_mapping.delete"))
    assert created.actor == deleted.actor == world.admin
    assert created.data == deleted.data == {"ldap_group": "payments-oncall", "team": "payments",
                                            "role": Role.NAMESPACE_OWNER}


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"ldap_group": "team-payments", "team": "PAYMENTS"}, None, "already exists"),
    ({"ldap_group": "lonely"}, None, "Choose a team, a role, or both."),
    ({"ldap_group": "", "role": Role.AUDITOR}, "ldap_group", "This field is required."),
])
def test_mapping_errors_are_shown_and_keep_the_input(as_role, world, data, field, message):
    data = {**data, "team": world.payments.pk} if data.get("team") == "PAYMENTS" else data

    response = as_role("admin").post("/teams/mappings/", data)

    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors[field] if field else form.non_field_errors()
    assert any(message in error for error in errors)
    if data["ldap_group"]:
        assert f'value="{data["ldap_group"]}"' in html(response)
    assert GroupMapping.objects.count() == 5
    assert not any(a.startswith("group_mapping.") for a in actions())
