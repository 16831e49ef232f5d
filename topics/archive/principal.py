"""The archiver's broker identity, `portal.archiver`: READ and DESCRIBE on every managed topic, READ on its own
consumer groups (`portal.archiver.<topic>`), provisioned by the one reconciler as a system principal. Never the
admin principal: the archive reads what it archives and nothing else."""
from __future__ import annotations

from topics.kafka.adapter import KafkaConnection
from topics.kafka.types import Operation
from topics.models import KafkaCluster, KafkaPrincipal, Topic
from topics.provisioning import system_principals, system_roles

NAME = "portal.archiver"
ROLE = "archiver"


def register() -> None:
    """From TopicsConfig.ready."""
    system_roles.register(ROLE, consumer_groups=True, bindings=lambda cluster, usernames, topics: (
        system_roles.topic_bindings(usernames, topics, [Operation.READ, Operation.DESCRIBE])))


def ensure(cluster: KafkaCluster) -> KafkaPrincipal:
    return system_principals.ensure(NAME, ROLE, cluster)


def connection(cluster: KafkaCluster) -> KafkaConnection:
    return system_principals.connection(NAME, cluster)


def group_of(topic: Topic) -> str:
    """The consumer group whose committed offsets say how far the topic is archived."""
    return f"{NAME}.{topic.name}"
