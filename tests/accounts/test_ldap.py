"""Sign-in against the real OpenLDAP server and its demo directory (portal.devservices.ldap):

    python -m portal.devservices run ldap --profile test -- .venv/bin/pytest tests/accounts/test_ldap.py

Settings read LDAP_URI when Django starts, so the harness's environment must be there before pytest starts.
"""
from __future__ import annotations

import ldap
import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.test import RequestFactory, override_settings
from django.urls import reverse

from accounts.ldap.backend import DirectoryUnavailable
from portal.devservices.base import free_port
from portal.devservices.ldap import DEMO_PEOPLE, group_dn
from tests.helpers import require_env, run_manage

pytestmark = pytest.mark.ldap

PEOPLE = {person.uid: person for person in DEMO_PEOPLE}
ALICE, DAVE = PEOPLE["alice"], PEOPLE["dave"]


@pytest.fixture(scope="module")
def directory() -> dict[str, str]:
    return require_env("LDAP_URI", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD", "LDAP_USER_BASE", "LDAP_GROUP_BASE")


@pytest.fixture
def admin_conn(directory):
    conn = _connect(directory["LDAP_URI"])
    conn.simple_bind_s(directory["LDAP_BIND_DN"], directory["LDAP_BIND_PASSWORD"])
    yield conn
    conn.unbind_s()


@pytest.fixture
def membership(admin_conn):
    """Changes group memberships in the directory for one test, and undoes them afterwards."""
    undo = []

    def change(operation: int, group: str, uid: str) -> None:
        member = [PEOPLE[uid].dn.encode()]
        admin_conn.modify_s(group_dn(group), [(operation, "member", member)])
        opposite = ldap.MOD_DELETE if operation == ldap.MOD_ADD else ldap.MOD_ADD
        undo.append((group_dn(group), [(opposite, "member", member)]))

    yield change
    for dn, modlist in reversed(undo):
        admin_conn.modify_s(dn, modlist)


def _connect(uri: str) -> ldap.ldapobject.LDAPObject:
    conn = ldap.initialize(uri)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
    return conn


def _group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@pytest.mark.parametrize("person", DEMO_PEOPLE, ids=lambda person: person.uid)
def test_every_demo_person_binds_with_the_documented_password(directory, person):
    conn = _connect(directory["LDAP_URI"])
    try:
        conn.simple_bind_s(person.dn, person.password)
        assert conn.whoami_s() == f"dn:{person.dn}"
    finally:
        conn.unbind_s()


@pytest.mark.django_db
def test_alice_signs_in_with_her_profile_and_team_group(directory):
    user = authenticate(username="alice", password=ALICE.password)

    assert user is not None and user.username == "alice"
    assert (user.first_name, user.last_name, user.email) == ("Alice", "Andersen", "alice@logwarden.test")
    assert _group_names(user) == {"team-payments"}
    assert not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()  # the directory keeps the password, the portal does not


@pytest.mark.django_db
def test_members_of_logwarden_admins_are_staff_and_superusers(directory):
    user = authenticate(username="dave", password=DAVE.password)

    assert user is not None
    assert user.is_staff and user.is_superuser
    assert _group_names(user) == {"logwarden-admins"}


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "password"), [
    ("alice", "not-her-password"),
    ("alice", DAVE.password),
    ("nobody-of-that-name", "whatever-password"),
])
def test_wrong_password_or_unknown_user_is_a_plain_failed_sign_in(directory, username, password):
    assert authenticate(username=username, password=password) is None


@pytest.mark.django_db
def test_removal_from_an_ldap_group_removes_the_django_group_at_next_sign_in(directory, membership):
    assert _group_names(authenticate(username="alice", password=ALICE.password)) == {"team-payments"}

    membership(ldap.MOD_DELETE, "team-payments", "alice")
    membership(ldap.MOD_ADD, "team-checkout", "alice")

    assert _group_names(authenticate(username="alice", password=ALICE.password)) == {"team-checkout"}


@pytest.mark.django_db
def test_admin_flags_follow_membership_of_logwarden_admins(directory, membership):
    membership(ldap.MOD_ADD, "logwarden-admins", "alice")
    promoted = authenticate(username="alice", password=ALICE.password)
    assert promoted.is_staff and promoted.is_superuser

    membership(ldap.MOD_DELETE, "logwarden-admins", "alice")
    demoted = authenticate(username="alice", password=ALICE.password)
    assert not demoted.is_staff and not demoted.is_superuser
    assert _group_names(demoted) == {"team-payments"}


@pytest.mark.django_db
def test_unreachable_directory_is_a_clear_error_naming_ldap_uri(directory):
    closed = f"ldap://127.0.0.1:{free_port()}/"
    expected = f"The directory (LDAP_URI={closed}) is not answering; try again later."

    with override_settings(AUTH_LDAP_SERVER_URI=closed):
        with pytest.raises(DirectoryUnavailable) as raised:
            authenticate(username="alice", password=ALICE.password)
        assert str(raised.value) == expected

        # Django's own sign-in form (the LoginView's and the admin's) shows it as the form's error.
        form = AuthenticationForm(RequestFactory().post("/login/"),
                                  data={"username": "alice", "password": ALICE.password})
        assert not form.is_valid()
        assert form.non_field_errors() == [expected]


@pytest.mark.django_db
def test_login_page_shows_the_outage_instead_of_a_server_error(directory, client):
    closed = f"ldap://127.0.0.1:{free_port()}/"

    with override_settings(AUTH_LDAP_SERVER_URI=closed):
        response = client.post(reverse("login"), {"username": "alice", "password": ALICE.password})

    assert response.status_code == 200
    assert f"The directory (LDAP_URI={closed}) is not answering; try again later." in response.content.decode()


@pytest.mark.django_db
def test_refused_portal_account_is_a_clear_error_naming_the_bind_settings(directory):
    with override_settings(AUTH_LDAP_BIND_PASSWORD="not-the-portal-password"):
        with pytest.raises(DirectoryUnavailable, match="LDAP_BIND_DN=cn=admin,dc=logwarden,dc=test.*check "
                                                       "LDAP_BIND_DN and LDAP_BIND_PASSWORD"):
            authenticate(username="alice", password=ALICE.password)


@pytest.mark.parametrize(("env", "message"), [
    ({"LDAP_USER_BASE": ""}, "LDAP_USER_BASE: required when LDAP_URI is set"),
    ({"LDAP_GROUP_BASE": ""}, "LDAP_GROUP_BASE: required when LDAP_URI is set"),
    ({"LDAP_BIND_PASSWORD": ""}, "LDAP_BIND_PASSWORD: required when LDAP_BIND_DN is set"),
    ({"LDAP_PEOPLE_FILTER": "objectClass=person"}, "LDAP_PEOPLE_FILTER: an LDAP filter in balanced parentheses"),
    ({"LDAP_PEOPLE_FILTER": "(&(objectClass=person)"}, "LDAP_PEOPLE_FILTER: an LDAP filter in balanced parentheses"),
])
def test_incomplete_ldap_settings_are_named_without_a_traceback(env, message):
    complete = {"LDAP_URI": "ldap://127.0.0.1:1/", "LDAP_BIND_DN": "cn=portal,dc=example,dc=org",
                "LDAP_BIND_PASSWORD": "portal-password", "LDAP_USER_BASE": "ou=people,dc=example,dc=org",
                "LDAP_GROUP_BASE": "ou=groups,dc=example,dc=org"}
    result = run_manage("check", clear=("LDAP_", "DJANGO_", "LOGWARDEN_"), **{**complete, **env})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_ldap_groups_map_to_teams_and_roles_and_a_removal_takes_the_role_away(directory, membership):
    from accounts.models import GroupMapping, Role, Team
    from accounts.services.identity import identity_of

    payments = Team.objects.create(slug="payments", name="Payments")
    GroupMapping.objects.create(ldap_group="team-payments", team=payments)
    GroupMapping.objects.create(ldap_group="logwarden-owners", role=Role.NAMESPACE_OWNER)

    bob = identity_of(authenticate(username="bob", password=PEOPLE["bob"].password))
    assert bob.team_ids == {payments.pk} and bob.roles == {Role.ENGINEER, Role.NAMESPACE_OWNER}

    membership(ldap.MOD_DELETE, "logwarden-owners", "bob")
    bob = identity_of(authenticate(username="bob", password=PEOPLE["bob"].password))
    assert bob.roles == {Role.ENGINEER} and bob.team_ids == {payments.pk}
