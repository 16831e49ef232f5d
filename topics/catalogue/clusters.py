"""Reaching a catalogued Kafka cluster: its connection, built from settings by reference."""
from __future__ import annotations

import functools
import os
import re

from django.conf import settings

from topics.catalogue.models import SASL_PASSWORD_REF
from topics.kafka.adapter import KafkaAdmin, KafkaConnection
from topics.kafka.errors import KafkaUnavailable
from topics.models import KafkaCluster

DEFAULT_CLUSTER_NAME = "default"


def connection_for(cluster: KafkaCluster) -> KafkaConnection:
    password = ""
    if cluster.sasl_password_ref and not re.match(SASL_PASSWORD_REF, cluster.sasl_password_ref):
        # a reference saved before the rule existed is not followed: it could name any of the portal's secrets
        raise KafkaUnavailable(f"cluster {cluster.name}: its password reference {cluster.sasl_password_ref!r} "
                               f"does not name a Kafka password (env:KAFKA_…PASSWORD)")
    if cluster.sasl_password_ref:
        variable = cluster.sasl_password_ref.removeprefix("env:")
        password = os.environ.get(variable, "")
        if not password:
            raise KafkaUnavailable(f"cluster {cluster.name}: its password reference {cluster.sasl_password_ref} "
                                   f"names an environment variable that is not set")
    return KafkaConnection(bootstrap=cluster.bootstrap, security_protocol=cluster.security_protocol,
                           sasl_mechanism=cluster.sasl_mechanism, username=cluster.sasl_username, password=password)


def admin_for(cluster: KafkaCluster) -> KafkaAdmin:
    """The cluster's admin client, one per process and connection: a new client first connects and logs in
    (SCRAM's salted hashing on both ends), which cost a small reconcile a third of its time. A changed
    bootstrap, user or password makes another; librdkafka reconnects an existing one by itself."""
    return _admin(connection_for(cluster), settings.KAFKA["timeout_seconds"], settings.KAFKA["scram_describe_batch"],
                  os.getpid())


@functools.lru_cache(maxsize=16)
def _admin(connection: KafkaConnection, timeout: float, scram_describe_batch: int, pid: int) -> KafkaAdmin:
    # `pid`: a forked worker must not inherit its parent's client (librdkafka's threads do not survive a fork)
    return KafkaAdmin(connection, timeout=timeout, scram_describe_batch=scram_describe_batch)


def default_cluster() -> KafkaCluster | None:
    """The cluster new namespaces get a topic on; created from the KAFKA_* settings on first use."""
    cluster = KafkaCluster.objects.filter(is_default=True).first()
    if cluster is not None or not settings.KAFKA["bootstrap"]:
        return cluster
    cluster, _ = KafkaCluster.objects.get_or_create(
        name=DEFAULT_CLUSTER_NAME,
        defaults={"bootstrap": settings.KAFKA["bootstrap"], "security_protocol": settings.KAFKA["security_protocol"],
                  "sasl_mechanism": settings.KAFKA["sasl_mechanism"],
                  "sasl_username": settings.KAFKA["sasl_username"],
                  "sasl_password_ref": "env:KAFKA_SASL_PASSWORD" if settings.KAFKA["sasl_password"] else "",
                  "is_default": True})
    return cluster
