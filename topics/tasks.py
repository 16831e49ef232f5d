"""The Celery tasks of the topics app, and the only module that defines them: each takes ids, reloads, and
calls one service. Services enqueue through topics.provisioning.queue, by task name."""
from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from topics.access import services as access
from topics.kafka.errors import KafkaUnavailable
from topics.models import KafkaCluster
from topics.provisioning import credentials, handoff, topic_sync
from topics.provisioning.reconciler import reconcile

log = logging.getLogger(__name__)


@shared_task(name="topics.sync_topics", acks_late=True)
def sync_topics(topic_ids: list[int] | None = None) -> dict:
    return asdict(topic_sync.sync_topics(topic_ids))


# A broker outage delays convergence: retry with backoff; the periodic full reconcile covers the rest.
@shared_task(name="topics.reconcile_cluster", acks_late=True, autoretry_for=(KafkaUnavailable,),
             retry_backoff=2, retry_backoff_max=60, max_retries=30)
def reconcile_cluster(cluster_id: int, trigger: str = "change") -> dict:
    cluster = KafkaCluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return {"skipped": f"cluster {cluster_id} no longer exists"}
    outcome = reconcile(cluster, trigger=trigger)
    return {"cluster": cluster.name, **outcome.plan.summary(), "seconds": round(outcome.seconds, 3)}


@shared_task(name="topics.reconcile_all", acks_late=True)
def reconcile_all() -> dict:
    """The periodic full pass: expires what is due and repairs every cluster. Each step and each cluster runs
    on its own: a failure is logged and recorded in the result (`{"error": …}`) and never stops the others."""
    results: dict[str, object] = {}
    steps = {
        "expired_requests": lambda: access.expire_unanswered(timedelta(days=settings.LOGWARDEN_REQUEST_TTL_DAYS)),
        "purged_handoffs": handoff.purge_expired,
        "rotated_by_policy": lambda: [c.username for c in credentials.rotate_due()],
    }
    for name, step in steps.items():
        results[name] = _guarded(f"step {name}", step)
    for cluster in KafkaCluster.objects.all():
        results[cluster.name] = _guarded(f"cluster {cluster.name}",
                                         lambda cluster=cluster: reconcile(cluster, trigger="periodic").plan.summary())
    return results


def _guarded(what: str, call):
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - one failing step or cluster must not stop the others
        log.exception("periodic reconcile: %s failed", what)
        return {"error": str(exc) if isinstance(exc, KafkaUnavailable) else f"{type(exc).__name__}: {exc}"}
