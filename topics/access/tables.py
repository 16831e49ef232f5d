"""Tables of the access pages: requests, their items and approvals, grants."""
from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from portal.web.tables import Table
from topics import policy
from topics.broker_state import with_broker_state
from topics.models import Approval, Decision, GrantState, RequestItem


def _with_approvals(items: QuerySet[RequestItem]) -> QuerySet[RequestItem]:
    """Items with their namespace, their approvals (and who gave them) and `approvals_given`."""
    return items.select_related("namespace").annotate(
        approvals_given=Count("approvals", filter=Q(approvals__decision=Decision.APPROVE))
    ).prefetch_related(Prefetch("approvals", queryset=Approval.objects.select_related("approver")))


class AccessRequestTable(Table):
    columns = ("Request", "For", "Namespaces and decisions", "Duration", "State", "")
    row_template = "topics/access/_request_row.html"
    empty_message = "No requests match."

    def __init__(self, rows: QuerySet, *, user, **kwargs) -> None:
        super().__init__(rows, **kwargs)
        self.user = user  # the requester withdraws their pending requests

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("principal", "requester").prefetch_related(
            Prefetch("items", queryset=_with_approvals(RequestItem.objects.all())))


class RequestItemTable(Table):
    """A request's namespaces, each with who may still decide it (topics.policy.deciders_left)."""

    columns = ("Namespace", "Sensitivity", "Approvals", "State", "Who may still decide", "Decided")
    row_template = "topics/access/_item_row.html"

    def __init__(self, rows: QuerySet, **kwargs) -> None:
        super().__init__(rows, **kwargs)
        for item in self.rows:
            item.deciders_left = policy.deciders_left(item)

    def prepare(self, rows: QuerySet) -> QuerySet:
        return _with_approvals(rows)


class ApprovalTable(Table):
    columns = ("Namespace", "Who", "Decision", "Comment", "When")
    row_template = "topics/access/_approval_row.html"
    empty_message = "Nobody has decided yet."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("item__namespace", "approver").order_by("created_at")


class GrantTable(Table):
    """Grants, each with what `user` may do about it: revoke (owners, admins) or release (the holder)."""

    columns = ("Principal", "Namespace", "Cluster", "State", "Source", "Valid", "Granted by", "")
    row_template = "topics/access/_grant_row.html"
    empty_message = "No grants match."

    def __init__(self, rows: QuerySet, *, user, **kwargs) -> None:
        super().__init__(rows, **kwargs)
        asked_in = {grant.request_item.request_id for grant in self.rows if grant.request_item is not None}
        openable = set(policy.requests_visible_to(user).filter(pk__in=asked_in).values_list("pk", flat=True))
        for grant in self.rows:
            active = grant.state == GrantState.ACTIVE
            grant.revocable = active and policy.may_revoke(user, grant)
            grant.releasable = active and policy.may_release(user, grant)
            grant.request_openable = grant.request_item is not None and grant.request_item.request_id in openable

    def prepare(self, rows: QuerySet) -> QuerySet:
        return with_broker_state(rows).select_related("principal", "topic__namespace", "topic__cluster",
                                                      "granted_by", "ended_by", "request_item__request")
