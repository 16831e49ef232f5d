"""Topic sync: the log topics of the catalogue, with their retention class's configs, on each broker.

Observe → diff → act happens inside the adapter's `ensure_topics` (list, compare configs, create or alter
only what differs), batched per cluster; this module decides what is desired and records the outcome. The
reconciler runs it first in every pass; `sync_topics` serves changes that touch only topics.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.utils import timezone

from portal.core import audit
from topics.catalogue.clusters import admin_for
from topics.kafka.adapter import KafkaAdmin
from topics.kafka.errors import KafkaAdapterError
from topics.kafka.types import TopicSpec
from topics.models import KafkaCluster, Lifecycle, RetentionClass, Topic, TopicState

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    reconfigured: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # topic -> why the broker refused it
    errors: dict[str, str] = field(default_factory=dict)  # cluster -> message


def specs_of(topics) -> dict[int, TopicSpec]:
    """Topic id → its desired spec, from one query."""
    return {pk: spec for pk, (spec, _, _) in _synced(topics, stale_before=None).items()}


def _synced(topics, *, stale_before: datetime | None) -> dict[int, tuple[TopicSpec, bool, bool]]:
    """Topic id → (its desired spec, whether its configs are due for verification: never verified or not since
    `stale_before` (None: all are), whether it is recorded ready without an error), from one query. Due is
    worked out by the database: a run reads every topic of its cluster, and decoding a timestamp per topic cost
    more than the rest of its row."""
    due = Value(True) if stale_before is None else Q(synced_at__isnull=True) | Q(synced_at__lt=stale_before)
    rows = (topics.order_by()
            .annotate(due=ExpressionWrapper(due, output_field=BooleanField()),
                      ready=ExpressionWrapper(Q(state=TopicState.READY, last_error=""), output_field=BooleanField()))
            .values_list("pk", "name", "due", "ready", "cluster__replication_factor",
                         "namespace__retention_class__retention_ms", "namespace__retention_class__retention_bytes",
                         "namespace__retention_class__cleanup_policy", "namespace__retention_class__partitions"))
    configs: dict[tuple, dict[str, str]] = {}  # one per retention class, shared by its topics' specs
    synced = {}
    for pk, name, due_now, ready, replication, *retention, partitions in rows:
        kind = tuple(retention)
        if kind not in configs:
            configs[kind] = RetentionClass.configs_of(*kind)
        synced[pk] = (TopicSpec(name, partitions=partitions, replication_factor=replication, configs=configs[kind]),
                      due_now, ready)
    return synced


def _managed_topics():
    return Topic.objects.exclude(namespace__lifecycle=Lifecycle.RETIRED)


def sync_cluster_topics(cluster: KafkaCluster, admin: KafkaAdmin, topic_ids: Collection[int] | None = None, *,
                        listed: Callable[[], dict[str, int]] | None = None,
                        held: Collection[str] = ()) -> SyncReport:
    """Ensures the given topics (all of the cluster's when None) on the broker; raises KafkaAdapterError when
    the broker cannot be listed or read, and records each topic it refuses on the topic (`failed`).

    Named topics have their configs read back and compared; in a full pass only the topics not verified
    within LOGWARDEN_TOPIC_VERIFY_SECONDS are, so a periodic pass stays cheap and still repairs drift.
    `listed`: the broker's listing, sent before (KafkaAdmin.send_list_topics). `held`: names of topics left
    alone (refused before, waiting for their retry time: topics.provisioning.backoff).
    """
    topics = _managed_topics().filter(cluster=cluster).exclude(name__in=list(held))
    if topic_ids is not None:
        topics = topics.filter(pk__in=list(topic_ids))
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.LOGWARDEN_TOPIC_VERIFY_SECONDS) if topic_ids is None else None
    synced = _synced(topics, stale_before=stale_before)
    specs = {pk: spec for pk, (spec, _, _) in synced.items()}
    verify = {spec.name for spec, due, _ in synced.values() if due}
    try:
        result = admin.ensure_topics(list(specs.values()), verify_configs=verify, listed=listed)
    except KafkaAdapterError as exc:
        Topic.objects.filter(pk__in=list(specs)).update(state=TopicState.ERROR, last_error=str(exc)[:2000])
        raise
    for pk, spec in specs.items():
        if spec.name in result.failed:
            Topic.objects.filter(pk=pk).update(state=TopicState.ERROR, last_error=result.failed[spec.name][:2000])
    repaired = [pk for pk, (spec, _, ready) in synced.items() if not ready and spec.name not in result.failed]
    if repaired:
        Topic.objects.filter(pk__in=repaired).update(state=TopicState.READY, last_error="")
    verified = (verify | set(result.created)) - set(result.failed)
    Topic.objects.filter(pk__in=[pk for pk, spec in specs.items() if spec.name in verified]).update(synced_at=now)
    changed = {name: action for action, names in (("topic.create", result.created),
                                                   ("topic.reconfigure", result.reconfigured)) for name in names}
    audit.record_many(audit.SYSTEM, [
        audit.Entry(changed[spec.name], "topics.topic", str(pk), f"{spec.name} @ {cluster.name}",
                    {"cluster": cluster.name, "partitions": spec.partitions, **spec.configs})
        for pk, spec in specs.items() if spec.name in changed])
    return SyncReport(created=result.created, reconfigured=result.reconfigured, unchanged=result.unchanged,
                      failed=result.failed)


def sync_topics(topic_ids: Iterable[int] | None = None) -> SyncReport:
    """Ensures the given topics (all topics of live namespaces, configs verified, when None)."""
    topics = _managed_topics().select_related("cluster")
    if topic_ids is not None:
        topics = topics.filter(pk__in=list(topic_ids))
    by_cluster: dict[KafkaCluster, list[int]] = defaultdict(list)
    for topic in topics:
        by_cluster[topic.cluster].append(topic.pk)
    report = SyncReport()
    for cluster, cluster_topic_ids in by_cluster.items():
        try:
            part = sync_cluster_topics(cluster, admin_for(cluster), cluster_topic_ids)
        except KafkaAdapterError as exc:
            report.errors[cluster.name] = str(exc)
            log.warning("topic sync on cluster %s failed: %s", cluster.name, exc)
            continue
        report.created += part.created
        report.reconfigured += part.reconfigured
        report.unchanged += part.unchanged
        report.failed.update(part.failed)
    return report
