"""Tables of the access pages: requests, their items and approvals, grants, credentials and reconcile runs."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Now

from portal.tables import Table
from topics.models import (Approval, CredentialHandoff, Decision, GrantState, KafkaCluster, ReconcileRun,
                           RequestItem)
from topics.services import access

CHANGES = {"create_users": ("SCRAM user", "created"), "delete_users": ("SCRAM user", "deleted"),
           "create_acls": ("ACL", "created"), "delete_acls": ("ACL", "deleted"),
           "topics_created": ("topic", "created"), "topics_reconfigured": ("topic", "reconfigured")}


def broker_changes(run: ReconcileRun) -> list[str]:
    """What a run changed on the broker, e.g. ['1 SCRAM user created', '3 ACLs created']; empty for nothing."""
    counts = [(run.counts.get(key), noun, verb) for key, (noun, verb) in CHANGES.items()]
    return [f"{count} {noun}{'' if count == 1 else 's'} {verb}" for count, noun, verb in counts if count]


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
    columns = ("Namespace", "Sensitivity", "Approvals", "State", "Decided")
    row_template = "topics/access/_item_row.html"

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
        for grant in self.rows:
            active = grant.state == GrantState.ACTIVE
            grant.revocable = active and access.may_revoke(user, grant)
            grant.releasable = active and access.may_release(user, grant)

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("principal", "topic__namespace", "topic__cluster", "granted_by", "ended_by",
                                   "request_item__request")


class CredentialTable(Table):
    columns = ("Username", "Cluster", "State", "Activated", "Password")
    row_template = "topics/access/_credential_row.html"
    empty_message = "No credentials yet: the first is made on the broker once a grant of this principal is active."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("principal", "cluster").annotate(password_waiting=Exists(
            CredentialHandoff.objects.filter(credential=OuterRef("pk"), expires_at__gt=Now())))


class ReconcileRunTable(Table):
    columns = ("Cluster", "Trigger", "Started", "Duration", "Result", "Broker changes", "Drift", "Error")
    row_template = "topics/access/_run_row.html"
    empty_message = "No reconcile has run yet."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("cluster")


@dataclass(frozen=True)
class ClusterStatus:
    """A cluster on the reconcile page: its last run, and the last run that found drift."""

    cluster: KafkaCluster
    last_run: ReconcileRun | None
    last_drift: ReconcileRun | None

    @classmethod
    def of(cls, cluster: KafkaCluster) -> ClusterStatus:
        runs = cluster.reconcile_runs.all()
        drift = Q(counts__drift_acls__gt=0) | Q(counts__missing_users__gt=0)
        return cls(cluster, runs.first(), runs.filter(drift).first())
