"""The portal's own log reader on the broker: system principal `portal.reader`, of role `reader`, which may READ
and DESCRIBE every topic Logwarden manages on a cluster, and READ its own consumer-group prefix only because
librdkafka's consumer looks its group's coordinator up even when, as here, it only assigns partitions (it never
joins the group nor commits).

The role is registered in TopicsConfig.ready; the principal is ensured the first time a cluster is read from
(and by `manage.py demo_logs` at start-up), and the one reconciler creates its SCRAM user and ACLs. The portal
never reads logs as its admin principal.
"""
from __future__ import annotations

from topics.kafka.adapter import KafkaConnection
from topics.kafka.types import Operation
from topics.models import KafkaCluster
from topics.provisioning import system_principals, system_roles

PRINCIPAL = "portal.reader"
ROLE = "reader"


class ReaderNotReady(Exception):
    """The reader's credential on the cluster is not made yet: it was just ensured, a reconcile will make it."""


def bindings(cluster: object, usernames: frozenset[str], managed_topics: frozenset[str]) -> set:
    return system_roles.topic_bindings(usernames, managed_topics, [Operation.READ, Operation.DESCRIBE])


def register() -> None:
    system_roles.register(ROLE, bindings=bindings, consumer_groups=True)


def ensure(cluster: KafkaCluster) -> None:
    system_principals.ensure(PRINCIPAL, ROLE, cluster)


def connection(cluster: KafkaCluster) -> KafkaConnection:
    """The reader's connection to the cluster; ensures the principal and raises ReaderNotReady before its first
    reconcile."""
    try:
        return system_principals.connection(PRINCIPAL, cluster)
    except system_principals.SystemCredentialUnavailable:
        ensure(cluster)
        raise ReaderNotReady(f"the portal's log reader is being provisioned on cluster {cluster.name}: "
                             f"try again in a minute") from None
