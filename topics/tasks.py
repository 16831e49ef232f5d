"""Celery tasks of the topics app: thin wrappers around the services."""
from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from topics.kafka.errors import KafkaUnavailable


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
    """The periodic full pass: expires what is due and repairs every cluster, one failing cluster at a time."""
    from topics.models import KafkaCluster
    from topics.services import access, credentials, handoff
    from topics.services.reconciler import reconcile

    results: dict[str, object] = {
        "expired_requests": access.expire_unanswered(timedelta(days=settings.LOGWARDEN_REQUEST_TTL_DAYS)),
        "purged_handoffs": handoff.purge_expired(),
        "rotated_by_policy": [c.username for c in credentials.rotate_due()],
    }
    for cluster in KafkaCluster.objects.all():
        try:
            results[cluster.name] = reconcile(cluster, trigger="periodic").plan.summary()
        except KafkaUnavailable as exc:
            results[cluster.name] = {"error": str(exc)}
    return results
