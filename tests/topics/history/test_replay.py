"""The replay of the audit trail and the windows it answers for, on events built here: pure, no database."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django import forms

from topics.history.answer import ONE_TICK, Window
from topics.history.forms import parse_moment
from topics.history.replay import Replay

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACL = "User:u.alice.a ALLOW READ TOPIC:logs.pay"


def event(action: str, at: datetime, target_id: str, actor: str = "system", **data) -> SimpleNamespace:
    return SimpleNamespace(action=action, occurred_at=at, target_id=target_id, actor_label=actor, data=data)


def grant(pk: int, at: datetime, *, days: int = 1, **extra) -> SimpleNamespace:
    return event("grant.create", at, str(pk), extra.pop("actor", "dave"), principal="u.alice", topic="logs.pay",
                 namespace="pay", cluster="default", source=extra.pop("source", "admin"),
                 valid_from=at.isoformat(), valid_until=(at + timedelta(days=days)).isoformat(),
                 reason="debugging", **extra)


def test_a_grant_is_readable_from_its_start_until_its_revocation_and_not_after():
    revoked = T0 + timedelta(hours=2)
    replay = Replay.of([grant(1, T0), event("grant.revoke", revoked + ONE_TICK, "1", "bob",
                                              ended_at=revoked.isoformat())])

    assert replay.answer(Window.instant(T0 - ONE_TICK)) == []
    assert [row.grant for row in replay.answer(Window.instant(T0))] == [1]
    assert replay.answer(Window.instant(revoked - ONE_TICK))[0].state == "revoked"
    assert replay.answer(Window.instant(revoked)) == []
    assert [row.grant for row in replay.answer(Window.day(T0.date()))] == [1]


def test_an_expiry_recorded_late_ends_access_at_valid_until():
    replay = Replay.of([grant(1, T0, days=1), event("grant.expire", T0 + timedelta(days=1, minutes=5), "1",
                                                    ended_at=(T0 + timedelta(days=1, minutes=5)).isoformat())])

    assert replay.answer(Window.instant(T0 + timedelta(days=1) - ONE_TICK))[0].ends_at == T0 + timedelta(days=1)
    assert replay.answer(Window.instant(T0 + timedelta(days=1))) == []


def test_the_request_its_requester_and_approvers_explain_a_request_grant():
    replay = Replay.of([
        event("request.create", T0 - timedelta(hours=1), "7", "alice", reason="debugging"),
        event("request.approve", T0 - timedelta(minutes=2), "7", "olga", namespace="pay"),
        event("request.approve", T0 - timedelta(minutes=1), "7", "oscar", namespace="pay"),
        event("request.approve", T0 - timedelta(minutes=1), "7", "zed", namespace="other"),
        grant(1, T0, actor="oscar", source="request", request=7)])

    (row,) = replay.answer(Window.instant(T0))
    assert (row.request, row.requester, row.approvers, row.granted_by) == (7, "alice", ("olga", "oscar"), "oscar")


def test_the_broker_held_the_acl_from_its_create_until_its_delete():
    created, deleted = T0 + timedelta(seconds=1), T0 + timedelta(hours=1)
    replay = Replay.of([grant(1, T0),
                        event("acl.create", created, ACL, cluster="default"),
                        event("acl.create", created, ACL, cluster="eu-prod"),  # another cluster's: not this one
                        event("acl.delete", deleted, ACL, cluster="default")])

    assert replay.answer(Window.instant(T0))[0].broker_held is False
    assert replay.answer(Window.instant(created))[0].broker_users == ("u.alice.a",)
    assert replay.answer(Window.instant(deleted))[0].broker_held is False
    # a window in which it was created counts, though it was not there at its start
    assert replay.answer(Window(T0, created + ONE_TICK))[0].broker_held is True


def test_portal_reads_count_under_the_grant_up_to_the_window():
    reads = [event("logs.read", T0 + timedelta(minutes=m), "3", "alice", principal="u.alice", topic="logs.pay")
             for m in (-5, 1, 2, 30)]  # the first before the grant
    replay = Replay.of([grant(1, T0), *reads])

    row = replay.answer(Window.instant(T0 + timedelta(minutes=2)))[0]
    assert (row.portal_reads, row.last_portal_read) == (2, T0 + timedelta(minutes=2))


@pytest.mark.parametrize(("raw", "window"), [
    ("2026-03-01", Window(T0 - timedelta(hours=12), T0 + timedelta(hours=12))),
    ("2026-03-01T12:00:00Z", Window.instant(T0)),
    ("2026-03-01T12:00:00", Window.instant(T0)),
    ("2026-03-01T14:00:00+02:00", Window.instant(T0)),
])
def test_a_date_is_its_utc_day_and_a_date_time_its_instant(raw, window):
    assert parse_moment(raw) == window
    assert Window.day(date(2026, 3, 1)) == parse_moment("2026-03-01")


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "2026-03-01T12:00:00+18:00", "2026-03-01T25:00"])
def test_a_moment_that_is_neither_is_refused_with_what_was_given(raw):
    with pytest.raises(forms.ValidationError) as refused:
        parse_moment(raw)
    assert raw[:10] in refused.value.messages[0]


def test_a_grant_whose_end_moved_is_readable_until_its_new_end():
    shortened = T0 + timedelta(hours=3)
    replay = Replay.of([grant(1, T0, days=7), event("grant.shorten", T0 + timedelta(hours=1), "1", "bob",
                                                    valid_until=shortened.isoformat())])

    assert replay.answer(Window.instant(shortened - ONE_TICK))[0].ends_at == shortened
    assert replay.answer(Window.instant(shortened)) == []
