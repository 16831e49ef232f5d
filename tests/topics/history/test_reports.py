"""The reports' rows on the database: access expiring within N days, stale access (no portal read and no
consumer-group move for N days), drift found and what was done, grants per day."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import topic_of
from topics.history import reports
from topics.history import services as history
from topics.models import Grant, GrantSource, LastRead, ReadChannel, ReconcileRun, RunStatus
from topics.provisioning.principals import principal_for

pytestmark = pytest.mark.django_db


def held(world, principal_user, *, since_days: float, for_days: float, topic=None) -> Grant:
    """A grant row that started `since_days` ago and runs `for_days` more (a report's input)."""
    now = timezone.now()
    return Grant.objects.create(principal=principal_for(principal_user),
                                topic=topic or world.ns_payments.topics.get(),
                                valid_from=now - timedelta(days=since_days),
                                valid_until=now + timedelta(days=for_days), source=GrantSource.ADMIN,
                                granted_by=world.admin, reason="report input")


@pytest.fixture
def topics(world):
    return topic_of(world.ns_payments), topic_of(world.ns_checkout)


def test_expiring_lists_the_active_grants_ending_within_the_days_soonest_first(world, topics):
    soon, sooner = held(world, world.engineer, since_days=1, for_days=2), held(world, world.outsider, since_days=1,
                                                                             for_days=1)
    held(world, world.owner, since_days=1, for_days=20)

    assert list(reports.expiring(Grant.objects.all(), within_days=7)) == [sooner, soon]
    assert list(reports.expiring(Grant.objects.all(), within_days=30)).__len__() == 3


def test_stale_access_is_held_that_long_without_a_portal_read_or_a_group_move_that_recent(world, topics):
    now = timezone.now()
    never_read = held(world, world.engineer, since_days=40, for_days=5)
    read_lately = held(world, world.owner, since_days=40, for_days=5)
    history.note_read(read_lately.principal, read_lately.topic, ReadChannel.PORTAL, now - timedelta(days=5))
    group_long_ago = held(world, world.outsider, since_days=40, for_days=5)
    history.note_read(group_long_ago.principal, group_long_ago.topic, ReadChannel.CONSUMER_GROUP,
                      now - timedelta(days=35))
    consumed_lately = held(world, world.auditor, since_days=40, for_days=5)
    history.note_read(consumed_lately.principal, consumed_lately.topic, ReadChannel.CONSUMER_GROUP,
                      now - timedelta(days=1))
    held(world, world.admin, since_days=10, for_days=5)  # not held 30 days yet

    stale = list(reports.stale(Grant.objects.all(), idle_days=30))

    assert stale == [never_read, group_long_ago]
    assert (stale[0].last_portal_read, stale[1].last_group_read) == (None, now - timedelta(days=35))


def test_a_last_read_only_moves_forward(world, topics):
    principal, topic = principal_for(world.engineer), topics[0]
    now = timezone.now()
    history.note_read(principal, topic, ReadChannel.PORTAL, now)
    history.note_read(principal, topic, ReadChannel.PORTAL, now - timedelta(hours=1))

    assert LastRead.objects.get().last_read_at == now


def test_drift_lists_the_runs_that_found_some_and_says_what_was_done(world, topics):
    cluster = topics[0].cluster
    quiet = {"create_acls": 2, "drift_acls": 0, "unmanaged_acls": 0, "missing_users": 0, "unknown_users": 0}
    now = timezone.now()
    ReconcileRun.objects.create(cluster=cluster, trigger="periodic", started_at=now, status=RunStatus.SUCCEEDED,
                                counts=quiet)
    removed = ReconcileRun.objects.create(cluster=cluster, trigger="periodic", started_at=now, counts={
        **quiet, "drift_acls": 3}, drift={"enforced": True, "foreign_acls": ["User:intruder ALLOW READ TOPIC:x"]})
    reported = ReconcileRun.objects.create(cluster=cluster, trigger="periodic", started_at=now - timedelta(hours=1),
                                           counts={**quiet, "drift_acls": 1, "unknown_users": 2},
                                           drift={"enforced": False})

    assert list(reports.drift()) == [removed, reported]
    assert reports.drift_action(removed) == "3 foreign binding(s) removed"
    assert reports.drift_action(reported) == ("1 foreign binding(s) reported (the cluster does not enforce); "
                                              "2 unknown user(s) under our names left alone")


def test_grants_per_day_count_the_grants_and_principals_that_could_read_each_day(world, topics):
    today = timezone.now().date()
    held(world, world.engineer, since_days=3.5, for_days=5)
    held(world, world.engineer, since_days=1.5, for_days=5)
    ended = held(world, world.owner, since_days=6, for_days=5)
    Grant.objects.filter(pk=ended.pk).update(ended_at=timezone.now() - timedelta(days=5), state="revoked")

    series = {day: (grants, principals) for day, grants, principals in
              reports.grants_over_time(world.ns_payments, days=10, until=today)}

    assert series[today] == (2, 1)
    assert series[today - timedelta(days=9)] == (0, 0)
    assert len(series) == 10
