"""The Celery tasks of the topics app, and the only module that defines them: each takes ids, reloads, and
calls one service. Services enqueue through topics.queue, by task name."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from topics import queue
from topics.access import services as access
from topics.archive import services as archive
from topics.audit import services as audit_services
from topics.history import services as history
from topics.kafka.errors import KafkaUnavailable
from topics.models import KafkaCluster, Topic
from topics.provisioning import credentials, handoff
from topics.provisioning.reconciler import reconcile_queued
from topics.provisioning.system_principals import SystemCredentialUnavailable
from topics.reviews import services as reviews

log = logging.getLogger(__name__)


# No Celery retry: what a failed run did not get onto the broker stays due in the outbox, and the drain sends
# another run for it (topics.queue.drain), every LOGWARDEN_DRAIN_SECONDS.
@shared_task(name=queue.RECONCILE_CLUSTER, acks_late=True)
def reconcile_cluster(cluster_id: int, trigger: str = "change") -> dict:
    """A queued run: for the outbox's due changes, or a full one for the periodic pass (trigger "periodic")."""
    cluster = KafkaCluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return {"skipped": f"cluster {cluster_id} no longer exists"}
    outcome = reconcile_queued(cluster, trigger=trigger, full=trigger == "periodic")
    if outcome is None:
        return {"cluster": cluster.name, "skipped": "nothing due, or another run holds the cluster"}
    return {"cluster": cluster.name, **outcome.plan.summary(), "seconds": round(outcome.seconds, 3)}


@shared_task(name=queue.DRAIN)
def drain_broker_changes(forget_queued: bool = False) -> dict:
    return queue.drain(forget_queued=forget_queued)


@worker_ready.connect(dispatch_uid="topics.drain_at_worker_start")
def drain_at_worker_start(sender, **kwargs) -> None:
    """A worker that starts (after a crash, or Redis coming back) first sends what the outbox still holds, also
    for clusters whose queued run Redis may have lost."""
    queue.send_drain(forget_queued=True)


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
    for cluster in KafkaCluster.objects.all():  # each cluster its own task: none waits for another's failure
        results[cluster.name] = _guarded(f"cluster {cluster.name}", lambda cluster=cluster: _periodic_run(cluster))
    return results


def _periodic_run(cluster: KafkaCluster) -> dict:
    """In a worker, the run's task id; in-process (no Redis), what the run did."""
    sent = reconcile_cluster.delay(cluster.pk, "periodic")
    return sent.get() if sent.ready() else {"queued": sent.id}


def _guarded(what: str, call):
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - one failing step or cluster must not stop the others
        log.exception("periodic reconcile: %s failed", what)
        return {"error": str(exc) if isinstance(exc, KafkaUnavailable) else f"{type(exc).__name__}: {exc}"}


@shared_task(name="topics.archive_topic")
def archive_topic(topic_id: int) -> dict:
    """One bounded archive run of a topic (a run killed half-way is repeated from its committed offsets)."""
    topic = Topic.objects.filter(pk=topic_id).select_related("namespace", "cluster").first()
    if topic is None:
        return {"skipped": f"topic {topic_id} no longer exists"}
    try:
        return archive.archive_topic(topic)
    except SystemCredentialUnavailable as exc:  # the archiver's first reconcile has not run yet
        return {"topic": topic.name, "skipped": str(exc)}


@shared_task(name="topics.archive_all")
def archive_all() -> dict:
    """The periodic pass: the archiver's principal on every cluster, one archive job per topic, the retention."""
    topics = list(archive.archivable_topics())
    results: dict[str, object] = {"archiver": _guarded("ensuring the archiver",
                                                       lambda: archive.ensure_archiver(topics))}
    for topic in topics:
        results[topic.name] = _guarded(f"archiving {topic.name}",
                                       lambda topic=topic: archive_topic.delay(topic.pk).id)
    results["retention"] = _guarded("archive retention", archive.apply_retention)
    return results


@shared_task(name="topics.access_reviews_due")
def access_reviews_due() -> dict:
    """The periodic pass of access reviews: the reminders due, then the no-response action of every campaign past
    its deadline (each step on its own, as in reconcile_all)."""
    return {"reminded": _guarded("review reminders", reviews.send_due_reminders),
            "closed": _guarded("closing due reviews", reviews.close_due_campaigns)}


@shared_task(name="topics.sample_consumer_groups")
def sample_consumer_groups() -> dict:
    """The periodic look at every cluster's consumer groups (topics.history.services.sample_consumer_groups)."""
    return {cluster.name: _guarded(f"sampling the consumer groups of {cluster.name}",
                                   lambda cluster=cluster: history.sample_consumer_groups(cluster))
            for cluster in KafkaCluster.objects.all()}


@shared_task(name="topics.audit_checkpoint")
def audit_checkpoint() -> dict:
    """Every LOGWARDEN_CHECKPOINT_INTERVAL_SECONDS: verify the audit trail against its checkpoints, then sign
    and store its head."""
    verification = audit_services.checkpoint_and_verify()
    return {"intact": verification.intact, "events": verification.events_checked,
            "checkpoints": verification.checkpoints_checked}
