"""The rules of requests and approvals, including under concurrency (real PostgreSQL)."""
from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.models import Role
from portal.models import AuditEvent
from tests.factories import person
from topics.models import Grant, RequestState, Sensitivity, Topic
from topics.services import access
from topics.services.principals import principal_for


@pytest.fixture
def topic_of(world):
    """Gives a namespace a topic row (no broker needed: these tests never reach the reconciler's act step)."""
    from topics.services.clusters import default_cluster

    def attach(namespace):
        cluster = default_cluster()
        return Topic.objects.create(namespace=namespace, cluster=cluster, name=cluster.topic_name_for(namespace.name))

    return attach


def request_for(world, namespace, *, requester=None, days=5):
    requester = requester or world.engineer
    return access.create_request(requester, principal=principal_for(requester), namespaces=[namespace],
                                 reason="investigate", duration_days=days)


@pytest.mark.django_db
def test_nobody_decides_on_their_own_request(world, topic_of):
    topic_of(world.ns_payments)
    request = request_for(world, world.ns_payments, requester=world.owner)
    with pytest.raises(PermissionDenied):
        access.decide(world.owner, request.items.get(), "approve", "looks fine to me")
    assert not Grant.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("decider", ["engineer", "auditor", "outsider", "admin"])
def test_only_owners_of_the_namespace_decide(world, topic_of, decider):
    topic_of(world.ns_payments)
    request = request_for(world, world.ns_payments, requester=world.outsider)
    with pytest.raises(PermissionDenied):
        access.decide(world.user_for(decider), request.items.get(), "approve", "sure")


@pytest.mark.django_db
def test_sensitive_namespace_needs_two_distinct_approvers(world, topic_of):
    world.ns_payments.sensitivity = Sensitivity.HIGH
    world.ns_payments.save()
    topic_of(world.ns_payments)
    second_owner = person("bob2", "team-payments", "logwarden-owners")
    item = request_for(world, world.ns_payments).items.get()
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
def test_one_rejection_rejects_and_a_comment_is_required(world, topic_of):
    topic_of(world.ns_payments)
    item = request_for(world, world.ns_payments).items.get()
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
def test_concurrent_approvals_make_exactly_one_grant(world, topic_of, required):
    from accounts.models import GroupMapping

    GroupMapping.objects.get_or_create(ldap_group="logwarden-owners", role=Role.NAMESPACE_OWNER)
    topic_of(world.ns_payments)
    owners = [world.owner] + [person(f"owner{i}", "team-payments", "logwarden-owners") for i in range(3)]
    item = request_for(world, world.ns_payments).items.get()
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
def test_requester_withdraws_a_pending_request_and_nobody_else_can(world, topic_of):
    topic_of(world.ns_payments)
    request = request_for(world, world.ns_payments)
    with pytest.raises(PermissionDenied):
        access.withdraw(world.owner, request)

    access.withdraw(world.engineer, request)

    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN and request.items.get().state == RequestState.WITHDRAWN
    with pytest.raises(ValidationError, match="No longer open to decisions: withdrawn"):
        access.decide(world.owner, request.items.get(), "approve", "late")


@pytest.mark.django_db
def test_unanswered_requests_expire(world, topic_of):
    from datetime import timedelta

    from django.utils import timezone

    from topics.models import AccessRequest

    topic_of(world.ns_payments)
    old, fresh = request_for(world, world.ns_payments), request_for(world, world.ns_payments)
    AccessRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=15))

    assert access.expire_unanswered(timedelta(days=14)) == 1

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == RequestState.EXPIRED and fresh.state == RequestState.PENDING
    assert AuditEvent.objects.filter(action="request.expire", target_id=str(old.pk)).exists()


@pytest.mark.django_db
def test_holder_releases_a_grant_early_and_outsiders_cannot_end_it(world, topic_of):
    from topics.models import GrantState

    topic_of(world.ns_payments)
    item = request_for(world, world.ns_payments).items.get()
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
