"""The pure rules of access reviews: who reviews a grant, which reminders are due, how a grant may be shortened.
No servers, no database; the reminder rule is checked against an hour-by-hour walk through a campaign."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from topics.reviews.rules import due_reminders, reviewers, why_not_shortened

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def test_owners_review_except_those_who_can_act_as_the_principal():
    chosen, fallback = reviewers(["bob", "olga", "alice"], ["fred"], excluded=lambda p: p == "alice")
    assert chosen == ["bob", "olga"] and fallback is False


def test_fallback_reviewers_review_when_no_owner_may():
    assert reviewers([], ["fred", "gina"], excluded=lambda p: False) == (["fred", "gina"], True)
    assert reviewers(["alice"], ["fred"], excluded=lambda p: p == "alice") == (["fred"], True)


def test_nobody_reviews_their_own_access_even_as_fallback():
    assert reviewers(["alice"], ["alice"], excluded=lambda p: p == "alice") == ([], True)


@given(owners=st.sets(st.integers(0, 9)), fallback=st.sets(st.integers(0, 9)), excluded=st.sets(st.integers(0, 9)))
def test_reviewers_are_never_excluded_and_owners_come_first(owners, fallback, excluded):
    chosen, by_fallback = reviewers(sorted(owners), sorted(fallback), excluded=excluded.__contains__)
    assert not set(chosen) & excluded
    assert by_fallback is not bool(owners - excluded)
    assert set(chosen) == ((owners - excluded) or (fallback - excluded))


def test_reminders_at_seven_days_and_one_day_before_the_deadline():
    deadline = T0 + 30 * DAY
    due = lambda now, sent=(): due_reminders(started_at=T0, deadline=deadline, now=now, days_before=[7, 1],  # noqa: E731
                                             sent=sent)
    assert due(deadline - 7 * DAY - timedelta(seconds=1)) == []
    assert due(deadline - 7 * DAY) == [7]
    assert due(deadline - 2 * DAY, sent={7}) == []
    assert due(deadline - DAY, sent={7}) == [1]
    assert due(deadline - DAY) == [7, 1]  # a late check: both at once (the service sends one message)
    assert due(deadline, sent=set()) == []  # the deadline: no reminder, the no-response action


def test_a_reminder_whose_moment_came_before_the_start_is_never_due():
    deadline = T0 + 3 * DAY
    assert due_reminders(started_at=T0, deadline=deadline, now=T0, days_before=[7, 1], sent=()) == []
    assert due_reminders(started_at=T0, deadline=deadline, now=deadline - DAY, days_before=[7, 1], sent=()) == [1]


@given(length_hours=st.integers(1, 40 * 24), days=st.sets(st.integers(1, 30), max_size=4))
def test_walking_through_a_campaign_sends_each_reminder_once_at_its_moment(length_hours, days):
    """Checked every hour from the start to past the deadline, each reminder whose moment falls within the
    campaign is sent exactly once, at the first check at or after its moment."""
    deadline = T0 + timedelta(hours=length_hours)
    sent: dict[int, datetime] = {}
    now = T0
    while now <= deadline + DAY:
        for reminder in due_reminders(started_at=T0, deadline=deadline, now=now, days_before=days, sent=sent):
            sent[reminder] = now
        now += timedelta(hours=1)
    expected = {d for d in days if deadline - timedelta(days=d) >= T0}
    assert set(sent) == expected
    for d, at in sent.items():
        assert deadline - timedelta(days=d) <= at < deadline - timedelta(days=d) + timedelta(hours=1)


def test_a_review_only_shortens_to_a_moment_still_to_come():
    until = T0 + 10 * DAY
    assert why_not_shortened(valid_until=until, new_valid_until=T0 + 2 * DAY, now=T0) == ""
    assert "only shortens" in why_not_shortened(valid_until=until, new_valid_until=until, now=T0)
    assert "only shortens" in why_not_shortened(valid_until=until, new_valid_until=until + DAY, now=T0)
    assert "revoke" in why_not_shortened(valid_until=until, new_valid_until=T0, now=T0)
    assert "new end" in why_not_shortened(valid_until=until, new_valid_until=None, now=T0)
