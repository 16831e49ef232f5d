"""Topic sync: the log topics of the catalogue, with their retention class's configs, on each broker.

Observe → diff → act happens inside the adapter's `ensure_topics` (list, compare configs, create or alter
only what differs), batched per cluster; this module decides what is desired and records the outcome. The
reconciler runs it first in every pass; `sync_topics` serves changes that touch only topics.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from portal import audit
from topics.kafka.adapter import KafkaAdmin
from topics.kafka.errors import KafkaAdapterError
from topics.kafka.types import TopicSpec
from topics.models import KafkaCluster, Lifecycle, Topic, TopicState
from topics.services.clusters import admin_for

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    reconfigured: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # cluster -> message


def desired_spec(topic: Topic) -> TopicSpec:
    retention = topic.namespace.retention_class
    return TopicSpec(topic.name, partitions=retention.partitions, replication_factor=topic.cluster.replication_factor,
                     configs=retention.topic_configs())


def _managed_topics():
    return Topic.objects.select_related("cluster", "namespace__retention_class").exclude(
        namespace__lifecycle=Lifecycle.RETIRED)


def sync_cluster_topics(cluster: KafkaCluster, admin: KafkaAdmin, topics: list[Topic] | None = None) -> SyncReport:
    """Ensures `topics` (all of the cluster's when None); raises KafkaAdapterError, after marking them."""
    topics = list(_managed_topics().filter(cluster=cluster)) if topics is None else topics
    ids = [t.pk for t in topics]
    try:
        result = admin.ensure_topics([desired_spec(t) for t in topics])
    except KafkaAdapterError as exc:
        Topic.objects.filter(pk__in=ids).update(state=TopicState.ERROR, last_error=str(exc)[:2000])
        raise
    Topic.objects.filter(pk__in=ids).exclude(state=TopicState.READY, last_error="").update(
        state=TopicState.READY, last_error="")
    Topic.objects.filter(pk__in=ids).update(synced_at=timezone.now())
    changed = {name: action for action, names in (("topic.create", result.created),
                                                   ("topic.reconfigure", result.reconfigured)) for name in names}
    audit.record_many(audit.SYSTEM, [
        audit.Entry(changed[t.name], "topics.topic", str(t.pk), str(t),
                    {"cluster": cluster.name, **desired_spec(t).configs})
        for t in topics if t.name in changed])
    return SyncReport(created=result.created, reconfigured=result.reconfigured, unchanged=result.unchanged)


def sync_topics(topic_ids: Iterable[int] | None = None) -> SyncReport:
    """Ensures the given topics (all topics of live namespaces when None) on their brokers."""
    topics = _managed_topics()
    if topic_ids is not None:
        topics = topics.filter(pk__in=list(topic_ids))
    by_cluster: dict[KafkaCluster, list[Topic]] = defaultdict(list)
    for topic in topics:
        by_cluster[topic.cluster].append(topic)
    report = SyncReport()
    for cluster, cluster_topics in by_cluster.items():
        try:
            part = sync_cluster_topics(cluster, admin_for(cluster), cluster_topics)
        except KafkaAdapterError as exc:
            report.errors[cluster.name] = str(exc)
            log.warning("topic sync on cluster %s failed: %s", cluster.name, exc)
            continue
        report.created += part.created
        report.reconfigured += part.reconfigured
        report.unchanged += part.unchanged
    return report
