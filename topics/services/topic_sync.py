"""Topic sync: the log topics of the catalogue, with their retention class's configs, on each broker.

Observe → diff → act happens inside the adapter's `ensure_topics` (list, compare configs, create or alter
only what differs), batched per cluster; this module decides what is desired and records the outcome.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from portal import audit
from topics.kafka.errors import KafkaAdapterError
from topics.kafka.types import TopicSpec
from topics.models import Lifecycle, Topic, TopicState
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


def sync_topics(topic_ids: Iterable[int] | None = None) -> SyncReport:
    """Ensures the given topics (all topics of active namespaces when None) on their brokers."""
    topics = Topic.objects.select_related("cluster", "namespace__retention_class").exclude(
        namespace__lifecycle=Lifecycle.RETIRED)
    if topic_ids is not None:
        topics = topics.filter(pk__in=list(topic_ids))
    by_cluster: dict = defaultdict(list)
    for topic in topics:
        by_cluster[topic.cluster].append(topic)
    report = SyncReport()
    for cluster, cluster_topics in by_cluster.items():
        now = timezone.now()
        ids = [t.pk for t in cluster_topics]
        try:
            result = admin_for(cluster).ensure_topics([desired_spec(t) for t in cluster_topics])
        except KafkaAdapterError as exc:
            report.errors[cluster.name] = str(exc)
            Topic.objects.filter(pk__in=ids).update(state=TopicState.ERROR, last_error=str(exc)[:2000])
            log.warning("topic sync on cluster %s failed: %s", cluster.name, exc)
            continue
        Topic.objects.filter(pk__in=ids).update(state=TopicState.READY, last_error="", synced_at=now)
        for action, names in (("topic.create", result.created), ("topic.reconfigure", result.reconfigured)):
            for topic in (t for t in cluster_topics if t.name in set(names)):
                audit.record(audit.SYSTEM, action, topic, cluster=cluster.name, **desired_spec(topic).configs)
        report.created += result.created
        report.reconfigured += result.reconfigured
        report.unchanged += result.unchanged
    return report
