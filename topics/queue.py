"""Enqueuing broker work: the one module services call to make a Kafka cluster converge.

An outbox and a keyed, coalescing queue (the shape of client-go's workqueue):

- `reconcile` writes a BrokerChange row per cluster inside the caller's transaction, so a committed change can
  never be lost between the database and the broker; `reconcile_at` writes one due later (a grant's end, a
  rotation's retire time).
- Once the transaction commits, one run per cluster is sent to the workers, coalesced: while a run of the
  cluster is queued (a QueuedReconcile row) no other is sent, so N changes make at most one queued and one
  running run. The run itself never waits for the cluster's lock (topics.provisioning.reconciler.reconcile_queued):
  one that finds it held is sent again a moment later (`send_again`), coalesced the same way.
- Sending never turns a committed change into an error: with Redis down (or the broker, in-process) it is
  logged, and `drain` — every LOGWARDEN_DRAIN_SECONDS and when a worker starts — sends a run for every cluster
  with changes still due, and schedules (Celery eta) the runs due before its next pass.

Tasks are sent by name, so this module imports no task: topics.tasks imports the services, the services import
this module, and nothing imports back.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from topics.models import BrokerChange, QueuedReconcile, Topic

log = logging.getLogger(__name__)

RECONCILE_CLUSTER = "topics.reconcile_cluster"
DRAIN = "topics.drain_broker_changes"
# a queued run not started by then is sent again: its message may have been lost with Redis or a worker
RESEND_AFTER = timedelta(seconds=60)
# a run that found the cluster's lock held comes back this much later (see send_again)
RETRY_LOCKED_AFTER = timedelta(seconds=1)


def reconcile(cluster_ids: Iterable[int], *, trigger: str = "change") -> None:
    """A run of each of these clusters, recorded now (in the caller's transaction) and sent after commit."""
    ids = sorted(set(cluster_ids))
    if not ids:
        return
    now = timezone.now()
    BrokerChange.objects.bulk_create([BrokerChange(cluster_id=cluster_id, trigger=trigger, created_at=now,
                                                   due_at=now) for cluster_id in ids])
    transaction.on_commit(lambda: send(ids))


def reconcile_at(cluster_id: int, when: datetime, *, trigger: str = "expiry") -> None:
    """A run of the cluster at `when`, so access that ends then leaves the broker then, not at the next
    periodic pass. Sent with an eta now if it is due before the drain's next look, else by the drain."""
    BrokerChange.objects.create(cluster_id=cluster_id, trigger=trigger, due_at=when)
    if when <= timezone.now() + _lookahead():
        transaction.on_commit(lambda: send_at(cluster_id, when))


def sync_topics(topic_ids: Iterable[int]) -> None:
    """Topics whose configs changed: the next run of their clusters reads their configs back from the broker
    (a full pass otherwise only verifies those not verified for LOGWARDEN_TOPIC_VERIFY_SECONDS)."""
    topics = Topic.objects.filter(pk__in=sorted(set(topic_ids)))
    topics.update(synced_at=None)
    reconcile(topics.values_list("cluster_id", flat=True))


def send(cluster_ids: Iterable[int]) -> None:
    """Sends a run of each cluster that has none queued yet (or one queued so long ago it may be lost)."""
    for cluster_id in cluster_ids:
        if _claim_queued(cluster_id) and not _send_task(cluster_id):
            QueuedReconcile.objects.filter(cluster_id=cluster_id).delete()  # the drain sends it again


def send_again(cluster_id: int) -> None:
    """A run of the cluster RETRY_LOCKED_AFTER from now, coalesced as `send`'s, for a run that skipped because
    another held the cluster's lock. A queued holder runs again for what it did not carry, but a manual
    reconcile does not, nor a run that fails, and the changes must not wait for the drain. In-process (no Redis)
    nothing is sent: the caller's own thread would only find the lock held again; the drain sends it."""
    if current_app.conf.task_always_eager or not _claim_queued(cluster_id):
        return
    if not _send_task(cluster_id, eta=timezone.now() + RETRY_LOCKED_AFTER):
        QueuedReconcile.objects.filter(cluster_id=cluster_id).delete()


def send_at(cluster_id: int, when: datetime) -> None:
    """A run of the cluster at `when` (Celery eta). Not coalesced: a run that finds nothing due does nothing.
    In-process (no Redis) there is no eta: the in-process scheduler's drain runs it when it is due."""
    if not current_app.conf.task_always_eager:
        _send_task(cluster_id, eta=when)


def drain(*, forget_queued: bool = False) -> dict:
    """Sends a run for every cluster with changes due and not yet on the broker, and schedules the runs due
    before the next drain. `forget_queued` (a worker starting: Redis may have lost what it held) sends them even
    where a run counts as queued; otherwise such a run is sent again only once RESEND_AFTER has passed."""
    if forget_queued:
        QueuedReconcile.objects.all().delete()
    now = timezone.now()
    pending = BrokerChange.objects.filter(done_at__isnull=True)
    due = sorted(set(pending.filter(due_at__lte=now).values_list("cluster_id", flat=True)))
    send(due)
    soon = (pending.filter(due_at__gt=now, due_at__lte=now + _lookahead()).values("cluster_id")
            .annotate(first=Min("due_at")).order_by("cluster_id"))
    for row in soon:
        send_at(row["cluster_id"], row["first"])
    return {"sent": due, "scheduled": [row["cluster_id"] for row in soon]}


def send_drain(*, forget_queued: bool = False) -> None:
    """A drain, sent to the workers (a worker that starts sends one)."""
    try:
        current_app.signature(DRAIN, kwargs={"forget_queued": forget_queued}).delay()
    except Exception as exc:  # noqa: BLE001 - beat sends the next one
        log.warning("could not queue a drain of the outbox: %s", exc)


def _lookahead() -> timedelta:
    """Runs due within this are sent with an eta; two drain periods, so a late drain leaves no gap."""
    return timedelta(seconds=2 * settings.LOGWARDEN_DRAIN_SECONDS)


def _claim_queued(cluster_id: int) -> bool:
    """True when no run of the cluster is queued and this caller now marks one queued (it must send it)."""
    now = timezone.now()
    QueuedReconcile.objects.filter(cluster_id=cluster_id, queued_at__lt=now - RESEND_AFTER).delete()
    try:
        with transaction.atomic():
            QueuedReconcile.objects.create(cluster_id=cluster_id, queued_at=now)
    except IntegrityError:  # queued already (or the cluster is gone)
        return False
    return True


def _send_task(cluster_id: int, *, eta: datetime | None = None) -> bool:
    """Whether the run was handed over. In-process (no Redis) the run happens here, and its failure is the
    run's (recorded on it), never the caller's."""
    try:
        current_app.signature(RECONCILE_CLUSTER, args=(cluster_id,)).apply_async(eta=eta)
    except Exception as exc:  # noqa: BLE001 - the change is committed; the outbox keeps it for the drain
        log.warning("reconcile of cluster %s not sent, the drain will send it: %s", cluster_id, exc)
        return False
    return True
