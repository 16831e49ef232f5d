"""Reaching a catalogued Kafka cluster: its connection, built from settings by reference."""
from __future__ import annotations

import os
import re
import threading

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
    (SCRAM's salted hashing on both ends), which cost a small reconcile a third of its time. librdkafka reconnects
    an existing one by itself. A changed bootstrap, user or password makes another, and the client made for the
    cluster's previous connection is let go (see drop_admins)."""
    # the pid: a forked worker must not inherit its parent's client (librdkafka's threads do not survive a fork)
    key = (connection_for(cluster), settings.KAFKA["timeout_seconds"], settings.KAFKA["scram_describe_batch"],
           os.getpid())
    with _admins_lock:
        previous = _connection_of.get(cluster.pk)
        _connection_of[cluster.pk] = key
        if previous not in (None, key) and previous not in _connection_of.values():
            _admins.pop(previous, None)
        admin = _admins.get(key)
        if admin is None:
            admin = _admins[key] = KafkaAdmin(key[0], timeout=key[1], scram_describe_batch=key[2])
        return admin


def drop_admins() -> None:
    """Lets go of every cached admin client, before the brokers they talk to stop (a throwaway broker restarted
    between benchmark parts). A client left alive past its broker keeps reconnecting to a port that may soon be
    another broker's, which refuses its login."""
    with _admins_lock:
        _admins.clear()
        _connection_of.clear()


_AdminKey = tuple[KafkaConnection, float, int, int]
_admins: dict[_AdminKey, KafkaAdmin] = {}
_connection_of: dict[int, _AdminKey] = {}  # cluster pk → the key of the client it last used
_admins_lock = threading.Lock()


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
