"""Property: whatever sequence of grants (by request, by an admin, break-glass), revocations, releases, expiries,
shortenings (an access review's) and rotations the services go through, the answer from recorded history equals the
replay of the audit trail at every instant the trail records, just before and after each, between each two, and on the
day. Through the services on the database, without the broker (the broker's part is test_point_in_time's)."""
from __future__ import annotations

import time
from datetime import timedelta
from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import AuditEvent
from tests.factories import activate, approve, ask, topic_of
from tests.topics.history.test_point_in_time import responder, short_grant
from topics.access import services as access
from topics.breakglass import services as breakglass
from topics.history import services as history
from topics.history.answer import ONE_TICK, Window
from topics.history.replay import Replay
from topics.models import GrantState, KafkaCredential, CredentialState
from topics.provisioning import credentials
from topics.provisioning.principals import principal_for
from topics.provisioning.reconciler import expire_due

pytestmark = pytest.mark.django_db
OPERATIONS = ("admin_grant", "request", "revoke", "release", "shorten", "expire", "break_glass", "rotate")


def apply(world, topic, operation: str, who: int, days: int) -> None:
    holders = [world.engineer, world.service_account.user]
    holder = holders[who % 2]
    principal = principal_for(holder)
    live = list(topic.grants.filter(state=GrantState.ACTIVE).order_by("pk"))
    if operation == "admin_grant":
        access.grant_directly(world.admin, principal=principal, topic=topic, days=days, reason=f"case {days}")
    elif operation == "request":  # alice's own: bob, who approves, can act as the team's service account
        approve(world, ask(world, topic.namespace, days=days, reason=f"need {days}"))
    elif operation in ("revoke", "release") and live:
        grant = live[who % len(live)]
        actor = world.owner if operation == "revoke" else grant.principal.user
        if operation == "revoke" or access.policy.may_release(actor, grant):
            access.end_grant(actor, grant, how=operation + "d" if operation == "revoke" else "released",
                             reason="over")
    elif operation == "shorten" and live:
        grant = live[who % len(live)]
        halfway = grant.valid_until - (grant.valid_until - timezone.now()) / 2
        access.shorten_grant(world.owner, grant, valid_until=halfway, reason="reviewed: half is enough")
    elif operation == "expire":
        short_grant(principal, topic, actor=world.admin, seconds=0.02, reason="brief")
        time.sleep(0.03)
        expire_due(topic.cluster, timezone.now())
    elif operation == "break_glass":
        try:
            breakglass.break_glass(responder(), namespace=topic.namespace, reason="incident", hours=1 + days % 4)
        except ValidationError:
            pass  # rita already holds break-glass access to it
    elif operation == "rotate":
        pending = KafkaCredential.objects.filter(principal=principal, state=CredentialState.PENDING).first()
        if pending is not None:
            activate(pending)
        try:
            credentials.rotate(holder, principal, topic.cluster, overlap=timedelta(0))
        except ValidationError:
            pass  # no live grant, or a rotation under way: nothing to rotate now


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 5), st.integers(1, 7)),
                      min_size=1, max_size=8))
def test_the_recorded_answer_equals_the_replay_after_any_sequence_of_operations(world, steps):
    with transaction.atomic():
        topic = topic_of(world.ns_payments)
        began = timezone.now()
        for step in steps:
            apply(world, topic, *step)
        replay = Replay.of(AuditEvent.objects.order_by("sequence").iterator())
        moments = sorted(AuditEvent.objects.filter(occurred_at__gte=began).values_list("occurred_at", flat=True))
        windows = [Window.instant(moment + shift) for moment in moments for shift in (-ONE_TICK, timedelta(0),
                                                                                       ONE_TICK)]
        windows += [Window.instant(first + (second - first) / 2) for first, second in pairwise(moments)]
        windows += [Window(began, moments[-1]), Window.day(began.date())]
        principals = [principal_for(world.engineer), principal_for(world.service_account.user),
                      principal_for(responder())]
        for window in windows:
            assert history.who_could_read(world.ns_payments, window) == replay.answer(
                window, namespace=world.ns_payments.name)
        for window in [Window.instant(moment) for moment in moments] + windows[-2:]:  # the principals' at each
            for principal in principals:
                assert history.what_could_read(principal, window) == replay.answer(window, principal=principal.name)
        transaction.set_rollback(True)  # the next example starts from the same world
