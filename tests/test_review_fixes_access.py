"""Review findings on access, credentials and provisioning rules: each test failed before its fix."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.services import service_accounts
from portal.audit import SYSTEM
from portal.models import AuditEvent
from tests.factories import person
from topics.models import (AccessRequest, CredentialState, Grant, KafkaCluster, KafkaCredential, Namespace,
                           ReconcileRun, RequestState, SensitivityPolicy, Topic)
from topics.services import access, catalogue, credentials, handoff
from topics.services.clusters import default_cluster
from topics.services.principals import principal_for


def topic_of(namespace, cluster=None):
    """A topic row for the namespace (no broker: these tests stop before the reconciler acts)."""
    cluster = cluster or default_cluster()
    return Topic.objects.create(namespace=namespace, cluster=cluster, name=cluster.topic_name_for(namespace.name))


def namespace(world, name, *, team=None, sensitivity="standard"):
    created = Namespace.objects.create(name=name, owner_team=team or world.payments, sensitivity=sensitivity,
                                       retention_class=world.ns_payments.retention_class)
    topic_of(created)
    return created


def ask(world, namespaces, *, principal_user=None, requester=None, days=5):
    requester = requester or world.engineer
    return access.create_request(requester, principal=principal_for(principal_user or requester),
                                 namespaces=namespaces, reason="investigate", duration_days=days)


# --- 1. no self-approval through a service account --------------------------------------------------------------

@pytest.mark.django_db
def test_a_service_accounts_request_needs_two_people(world):
    topic_of(world.ns_payments)
    asked_by_bob = access.create_request(world.owner, principal=principal_for(world.service_account.user),
                                         namespaces=[world.ns_payments], reason="etl", duration_days=3)
    assert not access.may_decide(world.owner, asked_by_bob.items.get())  # bob asked: he does not also approve
    with pytest.raises(PermissionDenied, match="may not decide"):
        access.decide(world.owner, asked_by_bob.items.get(), "approve", "my own ask")

    asked_by_alice = ask(world, [world.ns_payments], principal_user=world.service_account.user).items.get()
    access.decide(world.owner, asked_by_alice, "approve", "alice asked, bob approves")
    assert Grant.objects.get().principal.name == "sa.payments-etl"


@pytest.mark.django_db
def test_an_admin_does_not_approve_their_own_access_to_an_ownerless_namespace(world):
    ownerless = namespace(world, "ownerless")
    ownerless.owner_team = None
    ownerless.save()
    item = access.create_request(world.admin, principal=principal_for(world.admin), namespaces=[ownerless],
                                 reason="curious", duration_days=1).items.get()

    assert not access.may_decide(world.admin, item)
    with pytest.raises(PermissionDenied):
        access.decide(world.admin, item, "approve", "fine")


@pytest.mark.django_db
def test_an_owner_outside_the_service_accounts_team_approves_its_request(world):
    elsewhere = namespace(world, "shared", team=world.checkout)
    olga = person("olga", "team-checkout", "logwarden-owners")
    item = ask(world, [elsewhere], principal_user=world.service_account.user).items.get()

    assert access.may_decide(olga, item)
    access.decide(olga, item, "approve", "ok")
    assert Grant.objects.get().principal.name == "sa.payments-etl"


# --- 2. admin direct grants -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_admin_does_not_grant_directly_to_their_own_principal(world):
    topic = topic_of(world.ns_payments)
    with pytest.raises(PermissionDenied, match="your own principal"):
        access.grant_directly(world.admin, principal=principal_for(world.admin), topic=topic, days=3,
                              reason="shortcut")
    assert not Grant.objects.exists()

    access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=topic, days=3, reason="ok")
    assert Grant.objects.count() == 1


# --- 3. the current policy applies when deciding ----------------------------------------------------------------

@pytest.mark.django_db
def test_a_policy_made_stricter_after_the_request_applies_to_the_decision(world):
    topic_of(world.ns_payments)
    item = ask(world, [world.ns_payments], days=30).items.get()
    assert item.approvals_required == 1
    SensitivityPolicy.objects.update_or_create(level="standard", defaults={"approvals_required": 2,
                                                                           "max_grant_days": 7})
    second_owner = person("bob2", "team-payments", "logwarden-owners")

    access.decide(world.owner, item, "approve", "first")
    item.refresh_from_db()
    assert item.state == RequestState.PENDING and item.approvals_required == 2 and not Grant.objects.exists()

    access.decide(second_owner, item, "approve", "second")
    grant = Grant.objects.get()
    assert grant.valid_until - grant.valid_from == timedelta(days=7)  # capped from 30
    assert AuditEvent.objects.get(action="grant.create").data["capped_to_days"] == 7


@pytest.mark.django_db
def test_a_namespace_made_more_sensitive_after_the_request_needs_its_new_approvals(world):
    SensitivityPolicy.objects.update_or_create(level="high", defaults={"approvals_required": 2})
    item = ask(world, [world.ns_payments]).items.get()
    Namespace.objects.filter(pk=world.ns_payments.pk).update(sensitivity="high")

    access.decide(world.owner, item, "approve", "first")

    item.refresh_from_db()
    assert item.state == RequestState.PENDING and not Grant.objects.exists()
    assert "capped_to_days" not in AuditEvent.objects.filter(action="request.approve").get().data


# --- 7. withdrawing and expiring settle the request like decisions do -------------------------------------------

@pytest.fixture
def half_approved(world):
    """alice asks for payments and ledger (both payments'); bob approves payments, ledger stays pending."""
    topic_of(world.ns_payments)
    ledger = namespace(world, "ledger")
    request = ask(world, [world.ns_payments, ledger])
    access.decide(world.owner, request.items.get(namespace=world.ns_payments), "approve", "ok")
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    return SimpleNamespace(request=request, ledger=ledger)


@pytest.mark.django_db
def test_withdrawing_after_an_approval_leaves_a_partially_approved_request(world, half_approved):
    access.withdraw(world.engineer, half_approved.request)

    request = AccessRequest.objects.get(pk=half_approved.request.pk)
    assert request.state == RequestState.PARTIALLY_APPROVED and request.closed_at is not None
    assert dict(request.items.values_list("namespace__name", "state")) == {
        "payments": RequestState.APPROVED, "ledger": RequestState.WITHDRAWN}
    assert Grant.objects.filter(request_item__request=request).count() == 1


@pytest.mark.django_db
def test_expiring_after_an_approval_leaves_a_partially_approved_request(world, half_approved):
    AccessRequest.objects.filter(pk=half_approved.request.pk).update(created_at=timezone.now() - timedelta(days=30))

    assert access.expire_unanswered(timedelta(days=14)) == 1

    request = AccessRequest.objects.get(pk=half_approved.request.pk)
    assert request.state == RequestState.PARTIALLY_APPROVED
    assert request.items.get(namespace=half_approved.ledger).state == RequestState.EXPIRED
    assert AuditEvent.objects.filter(action="request.close", data__state="partially_approved").exists()


@pytest.mark.django_db
def test_withdrawing_and_expiring_with_no_approval_close_as_withdrawn_and_expired(world):
    topic_of(world.ns_payments)
    withdrawn, old = ask(world, [world.ns_payments]), ask(world, [world.ns_payments])
    AccessRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))

    access.withdraw(world.engineer, withdrawn)
    assert access.expire_unanswered(timedelta(days=14)) == 1

    assert AccessRequest.objects.get(pk=withdrawn.pk).state == RequestState.WITHDRAWN
    assert AccessRequest.objects.get(pk=old.pk).state == RequestState.EXPIRED


# --- 8. the same namespace twice ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_same_namespace_twice_makes_one_item(world):
    ledger = namespace(world, "ledger")
    request = ask(world, [world.ns_payments, ledger, world.ns_payments])

    assert list(request.items.order_by("pk").values_list("namespace__name", flat=True)) == ["payments", "ledger"]
    assert AuditEvent.objects.get(action="request.create").data["namespaces"] == ["payments", "ledger"]


# --- 9. retiring a namespace ---------------------------------------------------------------------------------------

@pytest.mark.kafka
@pytest.mark.django_db
def test_retiring_a_namespace_takes_its_acls_off_the_broker_and_closes_it_to_decisions(
        world, unique, kafka_admin, celery_eager, django_capture_on_commit_callbacks):
    reader = person(f"r{unique}", "team-payments")
    with django_capture_on_commit_callbacks(execute=True):
        retiring = catalogue.register_namespace(SYSTEM, name=f"old-{unique}", owner_team=world.payments)
        access.grant_directly(world.admin, principal=principal_for(reader), topic=retiring.topics.get(), days=1,
                              reason="before retirement")
    topic = retiring.topics.get().name
    assert kafka_admin.describe_acls(resource_name=topic)
    item = ask(world, [retiring]).items.get()

    with django_capture_on_commit_callbacks(execute=True):
        catalogue.retire_namespace(world.admin, retiring, reason="decommissioned")

    assert not kafka_admin.describe_acls(resource_name=topic)
    item.refresh_from_db()
    assert not access.may_decide(world.owner, item)
    with pytest.raises(ValidationError, match="namespace retired"):
        access.decide(world.owner, item, "approve", "late")
    with pytest.raises(PermissionDenied):  # who may not decide still hears so
        access.decide(world.outsider, item, "approve", "late")


# --- 5. disabling a service account -------------------------------------------------------------------------------

@pytest.mark.kafka
@pytest.mark.django_db
def test_a_disabled_service_accounts_acls_leave_the_broker(world, unique, kafka_admin, celery_eager,
                                                          django_capture_on_commit_callbacks):
    account = service_accounts.create(SYSTEM, name=f"etl-{unique}", team=world.payments)
    olga = person("olga", "team-checkout", "logwarden-owners")
    with django_capture_on_commit_callbacks(execute=True):
        shared = catalogue.register_namespace(SYSTEM, name=f"sa-off-{unique}", owner_team=world.checkout)
    request = ask(world, [shared], principal_user=account.user)
    with django_capture_on_commit_callbacks(execute=True):
        access.decide(olga, request.items.get(), "approve", "nightly export")
    username = KafkaCredential.objects.get(principal__user=account.user).username
    assert kafka_admin.describe_acls(principal=f"User:{username}")

    with django_capture_on_commit_callbacks(execute=True):
        service_accounts.set_active(world.admin, account, False)

    assert not kafka_admin.describe_acls(principal=f"User:{username}")


# --- 6. credentials: rotation triggers, messages, the policy pass -----------------------------------------------

@pytest.fixture
def holding(world):
    """alice holds a grant; her credential is pending (not yet created on the broker)."""
    topic = topic_of(world.ns_payments)
    access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=topic, days=5, reason="x")
    return SimpleNamespace(topic=topic, credential=KafkaCredential.objects.get(principal__user=world.engineer))


def activate(credential, *, age_days=0):
    KafkaCredential.objects.filter(pk=credential.pk).update(
        state=CredentialState.ACTIVE, activated_at=timezone.now() - timedelta(days=age_days))
    credential.refresh_from_db()
    return credential


@pytest.mark.django_db
def test_an_unknown_trigger_is_refused_and_policy_rotation_is_the_systems(world, holding):
    principal, cluster = holding.credential.principal, holding.topic.cluster
    activate(holding.credential)
    with pytest.raises(ValueError, match="trigger"):
        credentials.rotate(world.outsider, principal, cluster, overlap=timedelta(hours=1), trigger="scheduled")
    with pytest.raises(PermissionDenied):
        credentials.rotate(world.outsider, principal, cluster, overlap=timedelta(hours=1), trigger="policy")
    assert credentials.rotate(SYSTEM, principal, cluster, overlap=timedelta(hours=1), trigger="policy")


@pytest.mark.django_db
def test_a_first_credential_still_being_created_is_not_called_a_rotation(world, holding):
    with pytest.raises(ValidationError, match="still being created on the broker, retry shortly") as error:
        credentials.rotate(world.engineer, holding.credential.principal, holding.topic.cluster,
                           overlap=timedelta(hours=1))
    assert "under way" not in str(error.value)


@pytest.mark.django_db
def test_policy_rotation_skips_principals_already_rotating(world, holding):
    activate(holding.credential, age_days=200)
    credentials.rotate(world.engineer, holding.credential.principal, holding.topic.cluster,
                       overlap=timedelta(hours=1))  # retiring + pending now
    second = KafkaCredential.objects.get(principal__user=world.engineer, state=CredentialState.PENDING)
    activate(second, age_days=200)  # created on the broker, and (say) old: the retiring one still overlaps

    assert credentials.rotate_due() == []


@pytest.mark.django_db
def test_policy_rotation_logs_a_refused_rotation_and_goes_on(world, holding, settings, caplog):
    activate(holding.credential, age_days=200)
    settings.LOGWARDEN_ROTATION_OVERLAP_HOURS = settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS + 1

    assert credentials.rotate_due() == []
    assert "policy rotation of u.alice.a skipped" in caplog.text


@pytest.mark.kafka
@pytest.mark.django_db
def test_the_periodic_pass_goes_on_past_a_cluster_that_fails(world, settings, kafka_admin):
    from topics.tasks import reconcile_all

    settings.KAFKA = {**settings.KAFKA, "timeout_seconds": 2}
    default_cluster()
    KafkaCluster.objects.create(name="unreachable", bootstrap="127.0.0.1:1", sasl_username="admin",
                                sasl_password_ref="env:KAFKA_SASL_PASSWORD")

    results = reconcile_all()

    assert "KAFKA_BOOTSTRAP=127.0.0.1:1" in results["unreachable"]["error"]
    assert "create_acls" in results["default"]  # the real cluster was reconciled all the same
    assert ReconcileRun.objects.get(cluster__name="unreachable").succeeded is False


# --- 10. hand-off window by cluster --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_handoff_window_follows_the_retiring_credential_on_the_same_cluster_only(world, settings):
    principal = principal_for(world.engineer)
    here, there = default_cluster(), KafkaCluster.objects.create(name="second", bootstrap="localhost:1")
    far = timezone.now() + timedelta(hours=settings.LOGWARDEN_HANDOFF_HOURS + 48)
    KafkaCredential.objects.create(principal=principal, cluster=here, slot="a", state=CredentialState.RETIRING,
                                   retire_at=far)
    replacing = KafkaCredential.objects.create(principal=principal, cluster=here, slot="b")
    first_there = KafkaCredential.objects.create(principal=principal, cluster=there, slot="a")

    until = handoff.collect_until([replacing, first_there])

    assert until[replacing.pk] == far
    assert until[first_there.pk] < far - timedelta(hours=24)


# --- 11. principal names cannot overlap -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_dotted_usernames_get_principal_names_whose_group_prefixes_do_not_overlap(db):
    from topics.services.principals import escape_username

    john, john_smith = principal_for(person("john")), principal_for(person("john.smith"))

    assert (john.name, john_smith.name) == ("u.john", "u.john_2esmith")
    assert not john_smith.group_prefix.startswith(john.group_prefix)
    assert not john.group_prefix.startswith(john_smith.group_prefix)
    assert "." not in john_smith.name.removeprefix("u.")
    assert [escape_username(n) for n in ("a_b", "a__2e", "é", "a@b-C9")] == [
        "a__b", "a____2e", "_c3_a9", "a_40b-C9"]
