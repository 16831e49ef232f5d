"""The periodic directory sync against the real OpenLDAP server (and, for grants, the real broker): people
removed from the directory, or left out by LDAP_PEOPLE_FILTER because they are disabled, lose their roles,
sessions and the effect of their grants without signing in again; the others' groups follow the directory;
an unreachable directory changes nothing."""
from __future__ import annotations

import ldap
import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django_auth_ldap.config import LDAPSearch
from ldap import modlist

from accounts.ldap.backend import DirectoryUnavailable
from accounts.ldap.settings import ldap_settings
from accounts.services.identity import identity_of
from accounts.tasks import sync_directory_task
from portal.core.audit import SYSTEM
from portal.devservices.base import free_port
from portal.devservices.ldap import DEMO_PEOPLE, group_dn
from portal.models import AuditEvent
from tests.factories import approve, ask, person
from tests.helpers import require_env
from topics.catalogue import services as catalogue
from topics.models import KafkaCredential

pytestmark = [pytest.mark.ldap, pytest.mark.django_db]
PEOPLE = {p.uid: p for p in DEMO_PEOPLE}


@pytest.fixture
def admin_conn():
    directory = require_env("LDAP_URI", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD")
    conn = ldap.initialize(directory["LDAP_URI"])
    conn.simple_bind_s(directory["LDAP_BIND_DN"], directory["LDAP_BIND_PASSWORD"])
    undo = []
    yield conn, undo
    for step in reversed(undo):
        step()
    conn.unbind_s()


def remove_from_directory(admin_conn, uid: str) -> None:
    conn, undo = admin_conn
    dn = PEOPLE[uid].dn
    [(_, attrs)] = conn.search_s(dn, ldap.SCOPE_BASE)
    conn.delete_s(dn)
    undo.append(lambda: conn.add_s(dn, modlist.addModlist(attrs)))


def modify(admin_conn, dn: str, changes) -> None:
    conn, undo = admin_conn
    conn.modify_s(dn, changes)
    opposite = {ldap.MOD_ADD: ldap.MOD_DELETE, ldap.MOD_DELETE: ldap.MOD_ADD}
    undo.append(lambda: conn.modify_s(dn, [(opposite[op], attr, values) for op, attr, values in changes]))


@pytest.mark.kafka
def test_a_person_removed_from_the_directory_loses_roles_sessions_and_acls_at_the_next_sync(
        world, unique, client, admin_conn, kafka_admin, celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"left-{unique}", owner_team=world.payments)
    with django_capture_on_commit_callbacks(execute=True):
        approve(world, ask(world, namespace))
    username = KafkaCredential.objects.get(principal__user=world.engineer).username
    topic = namespace.topics.get().name
    assert kafka_admin.describe_acls(principal=f"User:{username}", resource_name=topic)
    client.force_login(world.engineer)
    assert client.get("/access/credentials/").status_code == 200
    remove_from_directory(admin_conn, "alice")

    with django_capture_on_commit_callbacks(execute=True):
        result = sync_directory_task()

    assert result["disabled"] == ["alice"]
    alice = type(world.engineer).objects.get(pk=world.engineer.pk)
    assert not alice.is_active and not alice.groups.exists() and not identity_of(alice).authenticated
    assert not any(s.get_decoded().get("_auth_user_id") == str(alice.pk) for s in Session.objects.all())
    assert client.get("/access/credentials/").status_code == 302  # signed out
    assert not kafka_admin.describe_acls(principal=f"User:{username}", resource_name=topic)
    [event] = AuditEvent.objects.filter(action="user.disable")
    assert event.actor_label == "system" and event.target_label == "alice"
    assert event.data["groups_removed"] == ["team-payments"] and event.data["sessions_ended"] == 1
    assert world.owner.__class__.objects.get(pk=world.owner.pk).is_active  # bob is still listed


def test_a_person_the_people_filter_leaves_out_is_disabled(world, admin_conn, settings):
    settings.LOGWARDEN_LDAP_PEOPLE_SEARCH = LDAPSearch(
        django_settings.LOGWARDEN_LDAP_PEOPLE_SEARCH.base_dn, ldap.SCOPE_SUBTREE,
        "(&(objectClass=person)(!(employeeType=disabled)))", ["uid"])
    modify(admin_conn, PEOPLE["erin"].dn, [(ldap.MOD_ADD, "employeeType", [b"disabled"])])

    result = sync_directory_task()

    assert result["disabled"] == ["erin"]
    erin = type(world.outsider).objects.get(pk=world.outsider.pk)
    assert not erin.is_active


def test_a_person_the_people_filter_leaves_out_cannot_sign_in(world, admin_conn, monkeypatch, settings):
    monkeypatch.setenv("LDAP_PEOPLE_FILTER", "(&(objectClass=person)(!(employeeType=disabled)))")
    settings.AUTH_LDAP_USER_SEARCH = ldap_settings(django_settings.LDAP_URI)["AUTH_LDAP_USER_SEARCH"]
    assert authenticate(username="erin", password=PEOPLE["erin"].password) is not None
    modify(admin_conn, PEOPLE["erin"].dn, [(ldap.MOD_ADD, "employeeType", [b"disabled"])])

    assert authenticate(username="erin", password=PEOPLE["erin"].password) is None


def test_group_changes_in_the_directory_reach_roles_at_the_next_sync_and_are_audited(world, admin_conn):
    modify(admin_conn, group_dn("logwarden-owners"), [(ldap.MOD_DELETE, "member", [PEOPLE["bob"].dn.encode()])])
    assert identity_of(world.owner).has_role("namespace_owner")

    result = sync_directory_task()

    assert result["disabled"] == [] and "bob" in result["updated"]
    bob = type(world.owner).objects.get(pk=world.owner.pk)
    assert bob.is_active and not identity_of(bob).has_role("namespace_owner")
    [event] = AuditEvent.objects.filter(action="user.directory_update", target_label="bob")
    assert event.data["changes"]["groups"] == {"from": ["logwarden-owners", "team-payments"],
                                               "to": ["team-payments"]}


def test_local_accounts_and_service_accounts_are_not_the_directorys(world):
    local = person("local-admin", superuser=True)
    local.set_password("a-local-password")
    local.save()

    sync_directory_task()

    local.refresh_from_db()
    world.service_account.user.refresh_from_db()
    assert local.is_active and world.service_account.user.is_active


def test_an_unreachable_directory_changes_nothing(world, settings):
    settings.AUTH_LDAP_SERVER_URI = f"ldap://127.0.0.1:{free_port()}/"

    with pytest.raises(DirectoryUnavailable, match="LDAP_URI=ldap://127.0.0.1"):
        sync_directory_task()

    assert all(user.is_active for user in type(world.engineer).objects.all())
    assert not AuditEvent.objects.filter(action="user.disable").exists()
