"""Fleets for the shipper tests: rows on the default Kafka cluster, objects in a namespace of their own."""
from __future__ import annotations

from portal.core.audit import SYSTEM
from shipper.fleet import services
from tests.factories import standard_retention_class
from topics.catalogue.clusters import default_cluster
from topics.models import KafkaCluster, TopicState


def make_fleet(unique: str, actor=SYSTEM, **settings):
    standard_retention_class()  # the quarantine topic's catalogue row needs the default class
    cluster = default_cluster() or KafkaCluster.objects.create(name="default", bootstrap="127.0.0.1:9092",
                                                               is_default=True)
    return services.create_fleet(actor, **{"name": f"f-{unique}", "kafka_cluster": cluster,
                                           "kube_namespace": f"lw-fleet-{unique}", **settings})


def ready(namespace) -> None:
    """The namespace's topic is on the broker (as a topic sync would record it)."""
    namespace.topics.update(state=TopicState.READY)
