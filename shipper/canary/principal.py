"""The canary reader's broker identity, `portal.canary`: READ and DESCRIBE on the canary topics only (the topics of
the fleets' own Kubernetes namespaces, where their canaries write) and READ on its own consumer groups
(`portal.canary.<fleet>`), provisioned by the one reconciler as a system principal. Never the admin principal, and
never the shipper's, which may write but not read."""
from __future__ import annotations

from shipper.fleet.models import Fleet
from topics.kafka.adapter import KafkaConnection
from topics.kafka.types import Operation
from topics.models import KafkaCluster, Topic
from topics.provisioning import system_principals, system_roles

NAME = "portal.canary"
ROLE = "canary"


def canary_topics(cluster) -> set[str]:
    """The topics of the namespaces that hold fleets of the cluster (their canaries write there)."""
    namespaces = Fleet.objects.filter(kafka_cluster=cluster).values("kube_namespace")
    return set(Topic.objects.filter(cluster=cluster, namespace__name__in=namespaces).values_list("name", flat=True))


def bindings(cluster, usernames: frozenset[str], managed_topics: frozenset[str]) -> set:
    return system_roles.topic_bindings(usernames, canary_topics(cluster) & managed_topics,
                                       [Operation.READ, Operation.DESCRIBE])


def register() -> None:
    """From ShipperConfig.ready."""
    system_roles.register(ROLE, bindings=bindings, consumer_groups=True)


def ensure(cluster: KafkaCluster) -> None:
    system_principals.ensure(NAME, ROLE, cluster)


def connection(cluster: KafkaCluster) -> KafkaConnection:
    return system_principals.connection(NAME, cluster)


def group_of(fleet_name: str) -> str:
    """The consumer group whose committed offsets say how far the fleet's canary records are read."""
    return f"{NAME}.{fleet_name}"
