"""An independent second answer: who could read what, recomputed by replaying the audit trail in order.

It reads nothing but the events (grant.create/revoke/release/expire, request.create/approve, the reconciler's
acl.create/acl.delete, logs.read), as an auditor with only an export of the trail would, and must give the
same rows as the recorded-history query (topics.history.services): the tests compare the two at many instants.
Pure: it takes any iterable of objects shaped like AuditEvent rows, in sequence order.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from topics.history.answer import Access, Window, grant_end, ordered

READ_ACL = "User:{username} ALLOW READ TOPIC:{topic}"  # planner.describe_acl of a topic's read binding
SLOTS = ("a", "b")


@dataclass
class _Grant:
    pk: int
    principal: str
    topic: str
    namespace: str
    cluster: str
    source: str
    valid_from: datetime
    valid_until: datetime
    granted_by: str
    reason: str
    request: int | None
    state: str = "active"
    ended_at: datetime | None = None


@dataclass
class Replay:
    grants: dict[int, _Grant] = field(default_factory=dict)
    requesters: dict[int, str] = field(default_factory=dict)
    approvers: dict[tuple[int, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    # (cluster, binding) → [(when, present)] in trail order
    acl_changes: dict[tuple[str, str], list[tuple[datetime, bool]]] = field(
        default_factory=lambda: defaultdict(list))
    reads: dict[tuple[str, str], list[datetime]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, events: Iterable[Any]) -> Replay:
        replay = cls()
        for event in events:
            replay.apply(event)
        for times in replay.reads.values():
            times.sort()
        return replay

    def apply(self, event: Any) -> None:
        data, action = event.data or {}, event.action
        if action == "request.create":
            self.requesters[int(event.target_id)] = event.actor_label
        elif action == "request.approve":
            self.approvers[(int(event.target_id), data["namespace"])].add(event.actor_label)
        elif action == "grant.create":
            self.grants[int(event.target_id)] = _Grant(
                int(event.target_id), data["principal"], data["topic"], data["namespace"], data["cluster"],
                data["source"], datetime.fromisoformat(data["valid_from"]),
                datetime.fromisoformat(data["valid_until"]), event.actor_label, data.get("reason", ""),
                data.get("request"))
        elif action in ("grant.revoke", "grant.release", "grant.expire"):
            grant = self.grants[int(event.target_id)]
            grant.state = {"grant.revoke": "revoked", "grant.release": "released"}.get(action, "expired")
            grant.ended_at = datetime.fromisoformat(data["ended_at"])
        elif action.startswith("grant.") and "valid_until" in data and int(event.target_id) in self.grants:
            # a grant's end moved (an access review shortening it): the event must say to when
            self.grants[int(event.target_id)].valid_until = datetime.fromisoformat(data["valid_until"])
        elif action in ("acl.create", "acl.delete"):
            self.acl_changes[(data["cluster"], event.target_id)].append(
                (event.occurred_at, action == "acl.create"))
        elif action == "logs.read" and "principal" in data:
            self.reads[(data["principal"], data["topic"])].append(event.occurred_at)

    def answer(self, window: Window, *, namespace: str | None = None, principal: str | None = None
               ) -> list[Access]:
        rows = []
        for grant in self.grants.values():
            if namespace is not None and grant.namespace != namespace:
                continue
            if principal is not None and grant.principal != principal:
                continue
            if not window.meets(grant.valid_from, grant_end(grant.valid_until, grant.ended_at)):
                continue
            rows.append(self._row(grant, window))
        return ordered(rows)

    def _row(self, grant: _Grant, window: Window) -> Access:
        holders = tuple(f"{grant.principal}.{slot}" for slot in SLOTS
                        if self._held(grant.cluster, READ_ACL.format(username=f"{grant.principal}.{slot}",
                                                                     topic=grant.topic), window))
        reads = self.reads.get((grant.principal, grant.topic), [])
        under_grant = reads[bisect_left(reads, grant.valid_from):bisect_left(reads, window.stop)]
        return Access(
            principal=grant.principal, namespace=grant.namespace, topic=grant.topic, cluster=grant.cluster,
            grant=grant.pk, source=grant.source, state=grant.state, valid_from=grant.valid_from,
            ends_at=grant_end(grant.valid_until, grant.ended_at), granted_by=grant.granted_by, reason=grant.reason,
            request=grant.request, requester=self.requesters.get(grant.request, "") if grant.request else "",
            approvers=tuple(sorted(self.approvers.get((grant.request, grant.namespace), ()))),
            broker_held=bool(holders), broker_users=holders, portal_reads=len(under_grant),
            last_portal_read=under_grant[-1] if under_grant else None)

    def _held(self, cluster: str, binding: str, window: Window) -> bool:
        """Present at the window's start (the last change at or before it a create), or created during it."""
        present = False
        for when, created in self.acl_changes.get((cluster, binding), ()):
            if when <= window.start:
                present = created
            elif when < window.stop and created:
                return True
        return present
