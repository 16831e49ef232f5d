"""Celery tasks of the topics app: thin wrappers around the services."""
from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from topics.kafka.errors import KafkaUnavailable

log = logging.getLogger(__name__)


@shared_task(name="topics.sync_topics", acks_late=True)
def sync_topics(topic_ids: list[int] | None = None) -> dict:
    from topics.services.topic_sync import sync_topics as run

    return asdict(run(topic_ids))


@shared_task(name="topics.discover_namespaces", acks_late=True)
def discover_namespaces() -> dict:
    from topics.services.namespace_source import discover_from_kubernetes

    return discover_from_kubernetes()


# A broker outage delays convergence: retry with backoff; the periodic full reconcile covers the rest.
@shared_task(name="topics.reconcile_cluster", acks_late=True, autoretry_for=(KafkaUnavailable,),
             retry_backoff=2, retry_backoff_max=60, max_retries=30)
def reconcile_cluster(cluster_id: int, trigger: str = "change") -> dict:
    from topics.models import KafkaCluster
    from topics.services.reconciler import reconcile

    cluster = KafkaCluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return {"skipped": f"cluster {cluster_id} no longer exists"}
    outcome = reconcile(cluster, trigger=trigger)
    return {"cluster": cluster.name, **outcome.plan.summary(), "seconds": round(outcome.seconds, 3)}


@shared_task(name="topics.reconcile_all", acks_late=True)
def reconcile_all() -> dict:
    """The periodic full pass: expires what is due and repairs every cluster. Each step and each cluster runs
    on its own: a failure is logged and recorded in the result (`{"error": …}`) and never stops the others."""
    from topics.models import KafkaCluster
    from topics.services import access, credentials, handoff
    from topics.services.reconciler import reconcile

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
