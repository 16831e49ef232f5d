"""Reading the fleets' canaries: each fleet's canary topic (its Kubernetes namespace's topic, through the same
routing as every namespace's) is read from where the last read stopped, as the canary reader `portal.canary`, and
each node's row (shipper.fleet.models.CanaryNode) is brought up to date (shipper.canary.lines.fold). The offsets
are committed after the rows are saved: a read cut short re-reads, and those lines count as duplicates."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.core.audit import SYSTEM
from shipper.canary import lines, principal
from shipper.fleet.models import CanaryNode, Fleet
from topics.catalogue import services as catalogue
from topics.kafka.adapter import ArchiveConsumer
from topics.kafka.errors import KafkaAdapterError
from topics.models import Namespace, Sensitivity, Topic, TopicState
from topics.provisioning.system_principals import SystemCredentialUnavailable

log = logging.getLogger(__name__)


@dataclass
class CanaryRead:
    """What one read found: the records read, the canary lines among them, the nodes they came from; or why
    nothing was read."""

    topic: str = ""
    records: int = 0
    lines: int = 0
    nodes: list[str] = field(default_factory=list)
    problem: str = ""

    def as_dict(self) -> dict:
        return {"topic": self.topic, "records": self.records, "lines": self.lines, "nodes": self.nodes,
                "problem": self.problem}


def provision(fleet: Fleet) -> None:
    """The canary reader's principal on the fleet's cluster, and the fleet namespace's catalogue row (restricted,
    owned by nobody until an admin says, its topic on the default cluster), so the shippers route the canary's
    records and the topic sync creates their topic. Idempotent: run when a fleet is created and applied."""
    principal.ensure(fleet.kafka_cluster)
    if Namespace.objects.filter(name=fleet.kube_namespace).exists():
        return
    try:
        catalogue.register_namespace(SYSTEM, name=fleet.kube_namespace, sensitivity=Sensitivity.RESTRICTED,
                                     description="A shipper fleet's own namespace: its per-node canary writes here")
    except ValidationError as exc:  # a catalogue rule refuses the name: the fleet works, its canary goes unread
        log.warning("fleet %s: namespace %s not registered, its canary is not read: %s", fleet.name,
                    fleet.kube_namespace, exc)


def canary_topic(fleet: Fleet) -> Topic | None:
    return Topic.objects.filter(cluster=fleet.kafka_cluster, namespace__name=fleet.kube_namespace).first()


def read(fleet: Fleet) -> CanaryRead:
    """Reads the fleet's canary records that arrived since the last read and updates its nodes' rows."""
    topic = canary_topic(fleet)
    if topic is None or topic.state != TopicState.READY:
        return CanaryRead(problem=f"namespace {fleet.kube_namespace} has no topic on cluster "
                                  f"{fleet.kafka_cluster.name} yet: the canary's records have nowhere to go")
    result = CanaryRead(topic=topic.name)
    try:
        connection = principal.connection(fleet.kafka_cluster)
    except SystemCredentialUnavailable:
        principal.ensure(fleet.kafka_cluster)
        result.problem = f"the canary reader {principal.NAME} is being provisioned: the next read can start"
        return result
    found: list[lines.CanaryLine] = []
    ends: dict[int, int] = {}
    try:
        with ArchiveConsumer(connection, topic.name, group=principal.group_of(fleet.name)) as consumer:
            partitions = consumer.partitions()
            committed = consumer.committed(partitions)
            for partition in partitions:
                low, high = consumer.watermarks(partition)
                start = max(low, committed.get(partition) or low)
                for batch in consumer.read(partition, start, high):
                    result.records += len(batch)
                    found += [line for record in batch if (line := _canary_line(fleet, record)) is not None]
                if high > start:
                    ends[partition] = high
            _fold(fleet, found)
            for partition, end in ends.items():
                consumer.commit(partition, end)
    except KafkaAdapterError as exc:
        result.problem = f"reading {topic.name} failed: {exc}"
        return result
    result.lines, result.nodes = len(found), sorted({line.node for line in found})
    return result


def _canary_line(fleet: Fleet, record) -> lines.CanaryLine | None:
    try:
        value = json.loads(record.value or b"")
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    return lines.parse(value, fleet=fleet.name, namespace=fleet.kube_namespace, timestamp_ms=record.timestamp_ms)


def _fold(fleet: Fleet, found: list[lines.CanaryLine]) -> None:
    with transaction.atomic():
        rows = {row.node: row for row in CanaryNode.objects.select_for_update().filter(fleet=fleet)}
        touched = {}
        for line in lines.order(found):
            row = rows.setdefault(line.node, CanaryNode(fleet=fleet, node=line.node))
            touched[line.node] = lines.fold(row, line)
        for row in touched.values():
            row.save()


def read_all() -> dict[str, dict]:
    """Reads every fleet's canary (the periodic pass)."""
    return {fleet.name: read(fleet).as_dict() for fleet in Fleet.objects.select_related("kafka_cluster")}
