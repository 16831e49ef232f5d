"""The logs suites' fixture (tests/topics/logs/ and the browser's): a namespace whose topic has three partitions
holding 30 shipper records and one malformed value, each with a known partition and record time, a grant on it
for alice (the world's engineer), and the portal's reader provisioned by the real reconciler on the real broker."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest

from portal.core.audit import SYSTEM
from tests.helpers import eventually
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.kafka.adapter import LogReader, produce
from topics.kafka.errors import KafkaAdapterError
from topics.kafka.types import OutgoingRecord
from topics.logs import reader
from topics.models import RetentionClass
from topics.provisioning.principals import principal_for

RECORDS = 30
MALFORMED = b"not json {"


def shipped(namespace: str, i: int) -> dict:
    """Record i: its pod, container, stream and labels vary with i so each filter picks a known subset."""
    return {"log": f"line {i}\n", "stream": "stderr" if i % 5 == 0 else "stdout", "time": f"t{i}",
            "docker": {"container_id": f"c{i}"},
            "kubernetes": {"namespace_name": namespace, "pod_name": f"api-7d9f8-{'a' if i % 2 == 0 else 'b'}",
                           "pod_id": f"p{i}", "container_name": "sidecar" if i % 3 == 2 else "api", "host": "node-1",
                           "labels": {"app": "api", "tier": "backend" if i < 15 else "frontend"}}}


def readable_now(topic) -> bool:
    try:
        with LogReader(reader.connection(topic.cluster), topic.name) as kafka:
            return bool(kafka.partitions())
    except (KafkaAdapterError, reader.ReaderNotReady):
        return False


@pytest.fixture
def logs(world, unique, kafka_connection, celery_eager, django_capture_on_commit_callbacks):
    three, _ = RetentionClass.objects.get_or_create(name="three-partitions",
                                                    defaults={"retention_ms": 7 * 86_400_000, "partitions": 3})
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"logs-{unique}", owner_team=world.payments,
                                                 retention_class=three)
    topic = namespace.topics.get()
    with django_capture_on_commit_callbacks(execute=True):
        reader.ensure(topic.cluster)
        grant = access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=topic, days=3,
                                      reason="logs tests")
    base = (int(time.time()) - 3600) * 1000
    produce(kafka_connection, topic.name,
            [OutgoingRecord(json.dumps(shipped(namespace.name, i)).encode(), partition=i % 3,
                            timestamp_ms=base + i * 1000) for i in range(RECORDS)]
            + [OutgoingRecord(MALFORMED, partition=0, timestamp_ms=base + RECORDS * 1000)])
    eventually(lambda: readable_now(topic), bool, "the reader's ACLs on the broker")
    return SimpleNamespace(namespace=namespace, topic=topic, base=base, holder=world.engineer, grant=grant)
