"""Health of what makes the broker converge: the periodic pass (is it running?) and the outbox (is anything
waiting too long?). Both read the reconciler's own records; "degraded" is shown, but a probe still gets 200."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from portal.core.health import ComponentStatus
from topics.models import BrokerChange, KafkaCluster, ReconcileRun


def _unknown_without_database(component: str):
    """The database's own row says why it cannot be read; these rows then say so, degraded (never a crash of
    the health page or of check_services, e.g. on a database not migrated yet)."""
    def decorate(check: Callable[[], ComponentStatus]) -> Callable[[], ComponentStatus]:
        @wraps(check)
        def guarded() -> ComponentStatus:
            try:
                return check()
            except DatabaseError as exc:
                return ComponentStatus(component, "degraded", f"the database cannot be read ({type(exc).__name__})")
        return guarded
    return decorate


@_unknown_without_database("scheduler")
def check_scheduler() -> ComponentStatus:
    """The last periodic pass: late (degraded) after three intervals without one."""
    interval = settings.LOGWARDEN_RECONCILE_INTERVAL_SECONDS
    if not KafkaCluster.objects.exists():
        return ComponentStatus("scheduler", "not configured", "no Kafka cluster to reconcile")
    last = ReconcileRun.objects.filter(trigger="periodic").order_by("-started_at").values_list(
        "started_at", flat=True).first()
    if last is None:
        return ComponentStatus("scheduler", "degraded", f"no periodic pass has run yet (every {interval} s)")
    age = (timezone.now() - last).total_seconds()
    state = "degraded" if age > 3 * interval else "ok"
    late = f", late: expected every {interval} s" if state == "degraded" else ""
    return ComponentStatus("scheduler", state, f"last periodic pass {age:.0f} s ago{late}")


@_unknown_without_database("queue")
def check_queue() -> ComponentStatus:
    """The oldest change not yet on the broker: late (degraded) once the periodic pass should have carried it."""
    now = timezone.now()
    due = BrokerChange.objects.filter(done_at__isnull=True, due_at__lte=now)
    oldest = due.order_by("due_at").values_list("due_at", flat=True).first()
    if oldest is None:
        return ComponentStatus("queue", "ok", "no change pending on the broker")
    age = (now - oldest).total_seconds()
    late = timedelta(seconds=age) > timedelta(seconds=2 * settings.LOGWARDEN_RECONCILE_INTERVAL_SECONDS)
    return ComponentStatus("queue", "degraded" if late else "ok",
                           f"{due.count()} change(s) pending on the broker, the oldest for {age:.0f} s")
