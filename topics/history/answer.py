"""The point-in-time answer's shape, shared by the recorded-history query (topics.history.services) and the
replay of the audit trail (topics.history.replay), which must agree on every row. Pure: no database.

Who could read a namespace during a window: every grant on its topics whose interval [valid_from, end) meets the
window, where `end` is the earlier of valid_until and the moment it was revoked or released. An instant T is the
window [T, T + 1 µs); a date D the UTC day [D 00:00, D+1 00:00).
"""
from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time, timedelta

from portal.core.exports import Table

ONE_TICK = timedelta(microseconds=1)  # the database's resolution: an instant is a window this long


@dataclass(frozen=True)
class Window:
    start: datetime
    stop: datetime  # excluded

    @classmethod
    def instant(cls, at: datetime) -> Window:
        return cls(at, at + ONE_TICK)

    @classmethod
    def day(cls, day: date) -> Window:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return cls(start, start + timedelta(days=1))

    def meets(self, begins: datetime, ends: datetime) -> bool:
        """Whether an interval [begins, ends) overlaps the window."""
        return begins < self.stop and ends > self.start

    def describe(self) -> str:
        if self.stop - self.start == ONE_TICK:
            return f"at {self.start.isoformat()}"
        return f"from {self.start.isoformat()} until {self.stop.isoformat()}"


def grant_end(valid_until: datetime, ended_at: datetime | None) -> datetime:
    """When a grant stopped (or stops) letting its holder read: its revocation or release if earlier than its
    expiry (an expiry is recorded when the reconciler gets to it, a little after valid_until)."""
    return valid_until if ended_at is None else min(valid_until, ended_at)


@dataclass(frozen=True)
class Access:
    """One grant that let a principal read a namespace's topic during the window, and why."""

    principal: str
    namespace: str
    topic: str
    cluster: str
    grant: int
    source: str  # GrantSource: request, admin, break_glass
    state: str  # GrantState now: active, expired, revoked, released
    valid_from: datetime
    ends_at: datetime  # grant_end
    granted_by: str  # who approved last or granted ("system" for none)
    reason: str
    request: int | None
    requester: str
    approvers: tuple[str, ...]  # who approved the request's item, sorted
    # whether the broker held a READ ACL for one of the principal's SCRAM users on the topic at some moment of the
    # window, from the reconciler's recorded changes; and which users
    broker_held: bool
    broker_users: tuple[str, ...]
    # reads through the portal under this grant, from its start until the window's end
    portal_reads: int
    last_portal_read: datetime | None


COLUMNS = ("principal", "namespace", "topic", "cluster", "grant", "source", "state", "valid_from", "ends_at",
           "granted_by", "reason", "request", "requester", "approvers", "broker_held", "broker_users",
           "portal_reads", "last_portal_read")


def ordered(rows) -> list[Access]:
    return sorted(rows, key=lambda row: (row.namespace, row.principal, row.valid_from, row.grant))


def as_table(rows: list[Access], *, title: str, window: Window, **parameters) -> Table:
    return Table(title=title, columns=COLUMNS, rows=[astuple(row) for row in rows],
                 parameters={**parameters, "window": window.describe()})
