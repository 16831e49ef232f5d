"""The embedded default's log traffic: a small producer writing records of the brief's shape to the demo
namespaces' topics, so `make run` has logs to read within a minute (until a real shipper fleet runs there).

It produces as its own system principal `shipper.demo` (role `demo-shipper`: WRITE and DESCRIBE on the demo
namespaces' topics only), never as the admin principal; `manage.py demo_logs` runs it.
"""
from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from topics.kafka.adapter import KafkaConnection, produce
from topics.kafka.types import Operation, OutgoingRecord
from topics.models import KafkaCluster, Topic
from topics.provisioning import system_principals, system_roles

PRINCIPAL = "shipper.demo"
ROLE = "demo-shipper"
NAMESPACES = ("payments", "payments-batch", "checkout", "search")  # topics.management.commands.seed_demo's
APPS = {"api": ("GET /health 200", "POST /v1/payments 201 {ms}ms", "GET /v1/payments/{n} 200 {ms}ms"),
        "worker": ("processed batch {n} in {ms}ms", "WARN retrying job {n}", "ERROR upstream timeout after {ms}ms")}


def bindings(cluster: object, usernames: frozenset[str], managed_topics: frozenset[str]) -> set:
    demo_topics = set(Topic.objects.filter(cluster=cluster, namespace__name__in=NAMESPACES)
                      .values_list("name", flat=True)) & managed_topics
    return system_roles.topic_bindings(usernames, demo_topics, [Operation.WRITE, Operation.DESCRIBE])


def register() -> None:
    system_roles.register(ROLE, bindings=bindings)


def ensure(cluster: KafkaCluster) -> None:
    system_principals.ensure(PRINCIPAL, ROLE, cluster)


def connection(cluster: KafkaCluster) -> KafkaConnection:
    return system_principals.connection(PRINCIPAL, cluster)


def record(namespace: str, rng: random.Random, now: datetime) -> OutgoingRecord:
    """One container log line of a demo pod, as a fluentd/fluent-bit shipper enriches it."""
    app = rng.choice(sorted(APPS))
    line = rng.choice(APPS[app]).format(n=rng.randint(1, 9999), ms=rng.randint(1, 900))
    pod = f"{app}-7d9f8-{rng.choice(['x2x9q', 'k8m2p', 'q7w3z'])}"
    value = {"log": line + "\n", "stream": "stderr" if line.startswith(("WARN", "ERROR")) else "stdout",
             "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
             "docker": {"container_id": f"{rng.getrandbits(64):016x}"},
             "kubernetes": {"namespace_name": namespace, "pod_name": pod, "pod_id": f"{rng.getrandbits(64):016x}",
                            "container_name": app, "host": f"node-{rng.randint(1, 3)}",
                            "labels": {"app": app, "tier": "backend" if app == "worker" else "frontend"}}}
    return OutgoingRecord(json.dumps(value).encode(), timestamp_ms=int(now.timestamp() * 1000))


def produce_batch(cluster: KafkaCluster, rng: random.Random, *, per_topic: int = 2) -> int:
    """A few records on every demo namespace's topic of the cluster; how many were written."""
    written = 0
    topics = Topic.objects.filter(cluster=cluster, namespace__name__in=NAMESPACES).select_related("namespace")
    sending = connection(cluster)
    for topic in topics:
        now = datetime.now(UTC)
        written += produce(sending, topic.name, [record(topic.namespace.name, rng, now) for _ in range(per_topic)])
    return written
