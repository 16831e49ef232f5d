"""The reports for auditors, admins and namespace owners: access expiring soon, stale access, drift found and
what was done, grants over time. Each is a queryset (the pages and the API paginate and filter it) and the same
rows as an export table (portal.core.exports). The caller passes the rows it may see (topics.policy)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from portal.core.exports import Table
from topics.history.services import grants_per_day
from topics.models import Grant, GrantState, LastRead, Namespace, ReadChannel, ReconcileRun

GRANT_RELATED = ("principal", "topic__namespace", "topic__cluster", "granted_by")


def _download_limit() -> int:
    return settings.LOGWARDEN_QUERY_DOWNLOAD_ROWS


def expiring(grants: QuerySet[Grant], *, within_days: int, now: datetime | None = None) -> QuerySet[Grant]:
    """Active grants that end within the next `within_days` days, soonest first."""
    now = now or timezone.now()
    return (grants.filter(state=GrantState.ACTIVE, valid_until__gt=now,
                          valid_until__lte=now + timedelta(days=within_days))
            .select_related(*GRANT_RELATED).order_by("valid_until", "pk"))


def _last_read(channel: str) -> Subquery:
    return Subquery(LastRead.objects.filter(principal_id=OuterRef("principal_id"), topic_id=OuterRef("topic_id"),
                                            channel=channel).values("last_read_at")[:1])


def stale(grants: QuerySet[Grant], *, idle_days: int, now: datetime | None = None) -> QuerySet[Grant]:
    """Active grants held for at least `idle_days` days under which their principal has read nothing for that long:
    no portal read of the topic and no move of a consumer group of theirs on it (topics.history.services
    .sample_consumer_groups). Annotated with `last_portal_read` and `last_group_read` (None: never)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=idle_days)
    return (grants.filter(state=GrantState.ACTIVE, valid_from__lte=cutoff, valid_until__gt=now)
            .annotate(last_portal_read=_last_read(ReadChannel.PORTAL),
                      last_group_read=_last_read(ReadChannel.CONSUMER_GROUP))
            .filter(Q(last_portal_read__isnull=True) | Q(last_portal_read__lt=cutoff),
                    Q(last_group_read__isnull=True) | Q(last_group_read__lt=cutoff))
            .select_related(*GRANT_RELATED).order_by("valid_from", "pk"))


def drift(runs: QuerySet[ReconcileRun] | None = None) -> QuerySet[ReconcileRun]:
    """Reconcile runs that found something changed out of band, newest first: bindings letting others read managed
    topics or groups, bindings of our users on resources we do not own, credentials gone from the broker, users
    under our names we did not create."""
    runs = ReconcileRun.objects.all() if runs is None else runs
    found = (Q(counts__drift_acls__gt=0) | Q(counts__unmanaged_acls__gt=0) | Q(counts__missing_users__gt=0)
             | Q(counts__unknown_users__gt=0))
    return runs.filter(found).select_related("cluster").order_by("-started_at", "-pk")


def drift_action(run: ReconcileRun) -> str:
    """What the run did about the drift it found."""
    done = []
    foreign = run.counts.get("drift_acls", 0)
    if foreign:
        done.append(f"{foreign} foreign binding(s) " + ("removed" if run.drift.get("enforced") else
                                                         "reported (the cluster does not enforce)"))
    if run.counts.get("unmanaged_acls"):
        done.append(f"{run.counts['unmanaged_acls']} unmanaged binding(s) of our users reported, left alone")
    if run.counts.get("missing_users"):
        done.append(f"{run.counts['missing_users']} credential(s) missing on the broker: a rotation restores them")
    if run.counts.get("unknown_users"):
        done.append(f"{run.counts['unknown_users']} unknown user(s) under our names left alone")
    if run.failures:
        done.append(f"{len(run.failures)} change(s) refused by the broker, retried")
    return "; ".join(done)


def days_back(until: date, days: int) -> list[date]:
    return [until - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def grants_over_time(namespace: Namespace, *, days: int, until: date | None = None) -> list[tuple]:
    """(day, grants, principals) for the `days` UTC days up to `until` (today)."""
    return grants_per_day(namespace, days_back(until or timezone.now().date(), days))


# --- as export tables -----------------------------------------------------------------------------------------

def _grant_cells(grant: Grant) -> list:
    return [grant.pk, grant.principal.name, grant.topic.namespace.name, grant.topic.name, grant.topic.cluster.name,
            grant.source, grant.valid_from, grant.valid_until,
            grant.granted_by.username if grant.granted_by else "system", grant.reason]


GRANT_COLUMNS = ("grant", "principal", "namespace", "topic", "cluster", "source", "valid_from", "valid_until",
                 "granted_by", "reason")


def expiring_table(grants: QuerySet[Grant], **parameters) -> Table:
    return Table(title="Access expiring soon", columns=GRANT_COLUMNS,
                 rows=[_grant_cells(g) for g in grants[:_download_limit()]], parameters=parameters)


def stale_table(grants: QuerySet[Grant], **parameters) -> Table:
    return Table(title="Stale access", columns=(*GRANT_COLUMNS, "last_portal_read", "last_group_read"),
                 rows=[[*_grant_cells(g), g.last_portal_read, g.last_group_read]
                       for g in grants[:_download_limit()]], parameters=parameters)


DRIFT_COLUMNS = ("run", "cluster", "started_at", "status", "foreign_acls", "unmanaged_acls", "missing_users",
                 "unknown_users", "enforced", "what_was_done", "foreign_bindings")


def drift_cells(run: ReconcileRun) -> list:
    return [run.pk, run.cluster.name, run.started_at, run.status, run.counts.get("drift_acls", 0),
            run.counts.get("unmanaged_acls", 0), run.counts.get("missing_users", 0),
            run.counts.get("unknown_users", 0), bool(run.drift.get("enforced")), drift_action(run),
            run.drift.get("foreign_acls", [])]


def drift_table(runs: QuerySet[ReconcileRun], **parameters) -> Table:
    return Table(title="Drift found and what was done", columns=DRIFT_COLUMNS,
                 rows=[drift_cells(run) for run in runs[:_download_limit()]], parameters=parameters)


def grants_over_time_table(namespace: Namespace, series: list[tuple], **parameters) -> Table:
    return Table(title=f"Grants over time: {namespace.name}", columns=("day", "grants", "principals"),
                 rows=[list(row) for row in series], parameters={"namespace": namespace.name, **parameters})
