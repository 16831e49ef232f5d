"""The Kafka component of the health page (registered by TopicsConfig.ready)."""
from __future__ import annotations

from django.conf import settings

from portal.core.health import ComponentStatus
from topics.kafka.adapter import KafkaAdmin
from topics.kafka.errors import KafkaAdapterError


def check_kafka() -> ComponentStatus:
    if not settings.KAFKA["bootstrap"]:
        return ComponentStatus("kafka", "not configured", "KAFKA_BOOTSTRAP is not set")
    try:
        cluster = KafkaAdmin.from_settings().describe_cluster()
    except KafkaAdapterError as exc:
        return ComponentStatus("kafka", "down", str(exc))
    return ComponentStatus("kafka", "ok", f"KAFKA_BOOTSTRAP={settings.KAFKA['bootstrap']}: "
                                          f"cluster {cluster['cluster_id']}, {cluster['brokers']} broker(s)")
