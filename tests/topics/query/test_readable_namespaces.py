"""topics.policy's rule for reading a namespace's logs: a live grant of the caller's own principal, nothing else."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.topics.query.archive_files import live_grant
from topics import policy
from topics.models import GrantState, Lifecycle

pytestmark = pytest.mark.django_db


def readable(user) -> list[str]:
    return list(policy.readable_namespaces(user).values_list("name", flat=True))


def test_a_live_grant_reads_its_namespace_only(world):
    live_grant(world.engineer, world.ns_payments)
    assert readable(world.engineer) == ["payments"]
    assert policy.may_read_namespace(world.engineer, world.ns_payments)
    assert not policy.may_read_namespace(world.engineer, world.ns_checkout)


@pytest.mark.parametrize("role", ["owner", "auditor", "admin", "outsider"])
def test_roles_read_nothing_without_a_grant_of_their_own(world, role):
    live_grant(world.engineer, world.ns_payments)
    assert readable(world.user_for(role)) == []


def test_a_service_accounts_grant_is_its_own_not_its_teams(world):
    live_grant(world.service_account.user, world.ns_payments)
    assert readable(world.service_account.user) == ["payments"]
    assert readable(world.engineer) == []


@pytest.mark.parametrize("end", ["ended", "revoked", "not started", "account disabled", "namespace retired"])
def test_a_grant_that_is_not_live_reads_nothing(world, end):
    grant = live_grant(world.engineer, world.ns_payments, ended=end == "ended")
    if end == "revoked":
        grant.state = GrantState.REVOKED
        grant.save()
    elif end == "not started":
        grant.valid_from = timezone.now() + timedelta(hours=1)
        grant.valid_until = timezone.now() + timedelta(days=2)
        grant.save()
    elif end == "account disabled":
        world.engineer.is_active = False
        world.engineer.save()
    elif end == "namespace retired":
        world.ns_payments.lifecycle = Lifecycle.RETIRED
        world.ns_payments.save()
    assert readable(world.engineer) == []
