"""The rules of requests and approvals — who may ask and decide, on which policy, how a request settles —
including under concurrency (real PostgreSQL)."""
from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from portal.models import AuditEvent
from tests.factories import ask, person, topic_of
from topics import policy
from topics.access import services as access
from topics.models import AccessRequest, Grant, Namespace, RequestState, Sensitivity, SensitivityPolicy
from topics.provisioning.principals import principal_for


def namespace(world, name, *, team=None, sensitivity="standard"):
    """A namespace of `team` (payments unless said) with a topic row (no broker: these tests stop before the
    reconciler acts)."""
    created = Namespace.objects.create(name=name, owner_team=team or world.payments, sensitivity=sensitivity,
                                       retention_class=world.ns_payments.retention_class)
    topic_of(created)
    return created


# --- deciding, withdrawing, expiring, ending a grant ---------------------------------------------------------

@pytest.mark.django_db
def test_nobody_decides_on_their_own_request(world):
    topic_of(world.ns_payments)
    person("pat", "team-payments", "logwarden-owners")  # another owner of payments, who may decide it
    request = ask(world, world.ns_payments, requester=world.owner)
    with pytest.raises(PermissionDenied):
        access.decide(world.owner, request.items.get(), "approve", "looks fine to me")
    assert not Grant.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("decider", ["engineer", "auditor", "outsider", "admin"])
def test_only_owners_of_the_namespace_decide(world, decider):
    topic_of(world.ns_payments)
    request = ask(world, world.ns_payments, requester=world.outsider)
    with pytest.raises(PermissionDenied):
        access.decide(world.user_for(decider), request.items.get(), "approve", "sure")


@pytest.mark.django_db
def test_sensitive_namespace_needs_two_distinct_approvers(world):
    world.ns_payments.sensitivity = Sensitivity.HIGH
    world.ns_payments.save()
    topic_of(world.ns_payments)
    second_owner = person("bob2", "team-payments", "logwarden-owners")
    item = ask(world, world.ns_payments).items.get()
    assert item.approvals_required == 2

    access.decide(world.owner, item, "approve", "first")
    with pytest.raises(ValidationError, match="already decided"):
        access.decide(world.owner, item, "approve", "again, to reach two")
    item.refresh_from_db()
    assert item.state == RequestState.PENDING and not Grant.objects.exists()

    access.decide(second_owner, item, "approve", "second")
    item.refresh_from_db()
    assert item.state == RequestState.APPROVED and Grant.objects.count() == 1
    assert item.request.state == RequestState.APPROVED


@pytest.mark.django_db
def test_one_rejection_rejects_and_a_comment_is_required(world):
    topic_of(world.ns_payments)
    item = ask(world, world.ns_payments).items.get()
    with pytest.raises(ValidationError) as error:
        access.decide(world.owner, item, "reject", "  ")
    assert "comment" in error.value.message_dict

    access.decide(world.owner, item, "reject", "no business need")
    item.refresh_from_db()
    assert item.state == RequestState.REJECTED and item.request.state == RequestState.REJECTED
    assert AuditEvent.objects.filter(action="request.reject", data__comment="no business need").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("changes", "field"), [
    ({"duration_days": 0}, "duration_days"),
    ({"duration_days": 31}, "duration_days"),  # standard allows 30
    ({"reason": " "}, "reason"),
    ({"namespaces": []}, "namespaces"),
])
def test_bad_requests_name_the_field_and_save_nothing(world, changes, field):
    arguments = {"principal": principal_for(world.engineer), "namespaces": [world.ns_payments],
                 "reason": "investigate", "duration_days": 5, **changes}
    with pytest.raises(ValidationError) as error:
        access.create_request(world.engineer, **arguments)
    assert field in error.value.message_dict
    assert not AuditEvent.objects.filter(action="request.create").exists()


@pytest.mark.django_db
def test_requests_are_for_yourself_or_your_teams_service_accounts(world):
    other_team_account = principal_for(world.outsider)
    with pytest.raises(ValidationError) as error:
        access.create_request(world.engineer, principal=other_team_account, namespaces=[world.ns_payments],
                              reason="x", duration_days=1)
    assert "principal" in error.value.message_dict
    allowed = {p.name for p in access.requestable_principals(world.engineer)}
    assert allowed == {"u.alice", "sa.payments-etl"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("required", [1, 2])
def test_concurrent_approvals_make_exactly_one_grant(world, required):
    from accounts.models import GroupMapping

    GroupMapping.objects.get_or_create(ldap_group="logwarden-owners", role=Role.NAMESPACE_OWNER)
    topic_of(world.ns_payments)
    owners = [world.owner] + [person(f"owner{i}", "team-payments", "logwarden-owners") for i in range(3)]
    item = ask(world, world.ns_payments).items.get()
    item.approvals_required = required
    item.save()
    barrier = threading.Barrier(len(owners))
    outcomes: list[str] = []

    def decide(owner):
        try:
            barrier.wait()
            access.decide(owner, item, "approve", f"approved by {owner.username}")
            outcomes.append("decided")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    item.refresh_from_db()
    assert item.state == RequestState.APPROVED
    assert Grant.objects.filter(request_item=item).count() == 1
    assert outcomes.count("decided") == required and outcomes.count("refused") == len(owners) - required
    assert item.approvals.count() == required


@pytest.mark.django_db
def test_requester_withdraws_a_pending_request_and_nobody_else_can(world):
    topic_of(world.ns_payments)
    request = ask(world, world.ns_payments)
    with pytest.raises(PermissionDenied):
        access.withdraw(world.owner, request)

    access.withdraw(world.engineer, request)

    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN and request.items.get().state == RequestState.WITHDRAWN
    with pytest.raises(ValidationError, match="No longer open to decisions: withdrawn"):
        access.decide(world.owner, request.items.get(), "approve", "late")


@pytest.mark.django_db
def test_unanswered_requests_expire(world):
    topic_of(world.ns_payments)
    old, fresh = ask(world, world.ns_payments), ask(world, world.ns_payments)
    AccessRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=15))

    assert access.expire_unanswered(timedelta(days=14)) == 1

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == RequestState.EXPIRED and fresh.state == RequestState.PENDING
    assert AuditEvent.objects.filter(action="request.expire", target_id=str(old.pk)).exists()


@pytest.mark.django_db
def test_holder_releases_a_grant_early_and_outsiders_cannot_end_it(world):
    from topics.models import GrantState

    topic_of(world.ns_payments)
    item = ask(world, world.ns_payments).items.get()
    access.decide(world.owner, item, "approve", "ok")
    grant = Grant.objects.get(request_item=item)
    with pytest.raises(PermissionDenied):
        access.end_grant(world.outsider, grant, how=GrantState.REVOKED, reason="mine now")
    with pytest.raises(ValidationError) as error:
        access.end_grant(world.owner, grant, how=GrantState.REVOKED, reason="")
    assert "reason" in error.value.message_dict

    access.end_grant(world.engineer, grant, how=GrantState.RELEASED)

    grant.refresh_from_db()
    assert grant.state == GrantState.RELEASED and grant.ended_by == world.engineer
    with pytest.raises(ValidationError, match="already released"):
        access.end_grant(world.owner, grant, how=GrantState.REVOKED, reason="too late")


# --- no self-approval through a service account --------------------------------------------------------------

@pytest.mark.django_db
def test_no_owner_who_can_act_as_the_service_account_decides_its_request(world):
    """bob owns payments and, being in team payments, may issue payments-etl's tokens and see its password: were
    he to approve its access too, one person would hold both ends. Nobody else could approve: refused now."""
    topic_of(world.ns_payments)
    with pytest.raises(ValidationError) as refused:
        ask(world, world.ns_payments, principal_user=world.service_account.user)
    [why] = refused.value.message_dict["namespaces"]
    assert "payments needs 1 approver" in why and "act as sa.payments-etl" in why and "nobody may approve it" in why
    assert not AccessRequest.objects.exists()

    shared = namespace(world, "shared", team=world.checkout)
    both_teams = person("olga", "team-checkout", "team-payments", "logwarden-owners")  # may act as payments-etl
    oscar = person("oscar", "team-checkout", "logwarden-owners")
    item = ask(world, shared, principal_user=world.service_account.user).items.get()
    assert [p.username for p in policy.deciders_left(item)] == ["oscar"]
    assert not policy.may_decide(both_teams, item) and item not in policy.waiting_for(both_teams)
    with pytest.raises(PermissionDenied, match="may not decide"):
        access.decide(both_teams, item, "approve", "my own team's program")
    access.decide(oscar, item, "approve", "oscar is not of payments")
    assert Grant.objects.get().principal.name == "sa.payments-etl"


def _deciders_and_queries(namespace, *, requester, principal) -> tuple[list[str], int]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        deciders = policy.possible_deciders(namespace, requester=requester, principal=principal)
    return [p.username for p in deciders], len(queries)


@pytest.mark.django_db
def test_possible_deciders_asks_the_database_a_bounded_number_of_times_however_many_owners(world):
    """Refusing an undecidable request and showing who may still decide ask this for every namespace of every
    request: one query per owning person would grow with the team."""
    shared = namespace(world, "shared", team=world.checkout)
    program = world.service_account.user  # payments' program: people of payments may act as it
    person("olga", "team-checkout", "team-payments", "logwarden-owners")  # acts as the program: never decides
    person("oscar", "team-checkout", "logwarden-owners")
    few, few_queries = _deciders_and_queries(shared, requester=world.engineer, principal=principal_for(program))
    for i in range(12):
        person(f"owner{i:02d}", "team-checkout", "logwarden-owners")
        person(f"member{i:02d}", "team-checkout")  # of the team, without the owner role
    many, many_queries = _deciders_and_queries(shared, requester=world.engineer, principal=principal_for(program))

    assert few == ["oscar"]
    assert many == ["oscar"] + [f"owner{i:02d}" for i in range(12)]
    assert many_queries == few_queries <= 6


@pytest.mark.django_db
def test_a_namespace_with_fewer_possible_approvers_than_its_policy_needs_refuses_requests(world):
    """A two-approver namespace with one owner would leave the request pending until it expires."""
    sensitive = namespace(world, "vault", team=world.checkout, sensitivity=Sensitivity.HIGH)
    person("olga", "team-checkout", "logwarden-owners")
    with pytest.raises(ValidationError) as refused:
        ask(world, sensitive, world.ns_payments)
    [why] = refused.value.message_dict["namespaces"]
    assert why.startswith("vault needs 2 approver(s) from the owners of Checkout") and "only olga may approve" in why
    assert not AccessRequest.objects.exists()

    person("oscar", "team-checkout", "logwarden-owners")
    item = ask(world, sensitive).items.get()
    assert [p.username for p in policy.deciders_left(item)] == ["olga", "oscar"]


@pytest.mark.django_db
def test_an_ownerless_namespace_refuses_requests_until_an_owner_is_confirmed(world):
    ownerless = namespace(world, "ownerless")
    ownerless.owner_team = None
    ownerless.save()
    with pytest.raises(ValidationError) as refused:
        access.create_request(world.admin, principal=principal_for(world.admin), namespaces=[ownerless],
                              reason="curious", duration_days=1)
    assert refused.value.message_dict["namespaces"] == [
        "ownerless has no confirmed owner team yet, so nobody may approve requests for it: a platform admin must "
        "confirm its owner first."]
    assert not AccessRequest.objects.exists()


@pytest.mark.django_db
def test_an_owner_outside_the_service_accounts_team_approves_its_request(world):
    elsewhere = namespace(world, "shared", team=world.checkout)
    olga = person("olga", "team-checkout", "logwarden-owners")
    item = ask(world, elsewhere, principal_user=world.service_account.user).items.get()

    assert policy.may_decide(olga, item)
    access.decide(olga, item, "approve", "ok")
    assert Grant.objects.get().principal.name == "sa.payments-etl"


# --- admin direct grants -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_admin_does_not_grant_directly_to_their_own_principal(world):
    topic = topic_of(world.ns_payments)
    with pytest.raises(PermissionDenied, match="your own principal"):
        access.grant_directly(world.admin, principal=principal_for(world.admin), topic=topic, days=3,
                              reason="shortcut")
    assert not Grant.objects.exists()

    access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=topic, days=3, reason="ok")
    assert Grant.objects.count() == 1


# --- the current policy applies when deciding ----------------------------------------------------------------

@pytest.mark.django_db
def test_a_policy_made_stricter_after_the_request_applies_to_the_decision(world):
    topic_of(world.ns_payments)
    item = ask(world, world.ns_payments, days=30).items.get()
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
    item = ask(world, world.ns_payments).items.get()
    Namespace.objects.filter(pk=world.ns_payments.pk).update(sensitivity="high")

    access.decide(world.owner, item, "approve", "first")

    item.refresh_from_db()
    assert item.state == RequestState.PENDING and not Grant.objects.exists()
    assert "capped_to_days" not in AuditEvent.objects.filter(action="request.approve").get().data


@pytest.mark.django_db
def test_a_level_without_a_policy_row_fails_closed_to_the_strictest_configured_rules(world):
    SensitivityPolicy.objects.filter(level="high").delete()
    SensitivityPolicy.objects.filter(level="restricted").update(approvals_required=3, max_grant_days=10,
                                                                max_credential_age_days=20)
    SensitivityPolicy.objects.filter(level="standard").update(approvals_required=1, max_grant_days=5,
                                                              max_credential_age_days=60)
    # the strictest of what is left (low 1/90/180, standard 1/5/60, restricted 3/10/20), rule by rule
    fallback = SensitivityPolicy.for_level("high")
    assert (fallback.approvals_required, fallback.max_grant_days, fallback.max_credential_age_days) == (3, 5, 20)

    vault = namespace(world, "vault", sensitivity=Sensitivity.HIGH)
    for username in ("pat", "quinn"):
        person(username, "team-payments", "logwarden-owners")
    with pytest.raises(ValidationError) as refused:
        ask(world, vault, days=6)
    assert refused.value.message_dict["duration_days"] == ["Between 1 and 5 days (the maximum for vault)."]
    assert ask(world, vault, days=5).items.get().approvals_required == 3


@pytest.mark.django_db
def test_with_no_policy_rows_at_all_every_level_takes_the_strictest_the_fields_allow(world):
    SensitivityPolicy.objects.all().delete()
    fallback = SensitivityPolicy.for_level("low")
    assert (fallback.approvals_required, fallback.max_grant_days, fallback.max_credential_age_days) == (5, 1, 1)
    with pytest.raises(ValidationError) as refused:
        ask(world, world.ns_payments, days=1)
    assert "payments needs 5 approver(s)" in refused.value.message_dict["namespaces"][0]


# --- withdrawing and expiring settle the request like decisions do -------------------------------------------

@pytest.fixture
def half_approved(world):
    """alice asks for payments and ledger (both payments'); bob approves payments, ledger stays pending."""
    topic_of(world.ns_payments)
    ledger = namespace(world, "ledger")
    request = ask(world, world.ns_payments, ledger)
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
    withdrawn, old = ask(world, world.ns_payments), ask(world, world.ns_payments)
    AccessRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))

    access.withdraw(world.engineer, withdrawn)
    assert access.expire_unanswered(timedelta(days=14)) == 1

    assert AccessRequest.objects.get(pk=withdrawn.pk).state == RequestState.WITHDRAWN
    assert AccessRequest.objects.get(pk=old.pk).state == RequestState.EXPIRED


# --- the same namespace twice ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_same_namespace_twice_makes_one_item(world):
    ledger = namespace(world, "ledger")
    request = ask(world, world.ns_payments, ledger, world.ns_payments)

    assert list(request.items.order_by("pk").values_list("namespace__name", flat=True)) == ["payments", "ledger"]
    assert AuditEvent.objects.get(action="request.create").data["namespaces"] == ["payments", "ledger"]
