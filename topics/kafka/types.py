"""Plain, hashable values describing Kafka state: what the planners compare and the adapter reads/writes.

Nothing here imports confluent-kafka, so pure logic (planning, diffing) and its tests need no broker client.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class ResourceType(str, enum.Enum):
    TOPIC = "TOPIC"
    GROUP = "GROUP"
    CLUSTER = "CLUSTER"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"


class PatternType(str, enum.Enum):
    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


class Operation(str, enum.Enum):
    ALL = "ALL"
    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DELETE = "DELETE"
    ALTER = "ALTER"
    DESCRIBE = "DESCRIBE"
    CLUSTER_ACTION = "CLUSTER_ACTION"
    DESCRIBE_CONFIGS = "DESCRIBE_CONFIGS"
    ALTER_CONFIGS = "ALTER_CONFIGS"
    IDEMPOTENT_WRITE = "IDEMPOTENT_WRITE"


class Permission(str, enum.Enum):
    ALLOW = "ALLOW"
    DENY = "DENY"


class AclBinding(NamedTuple):
    """One ACL entry: `principal` may (or may not) do `operation` on a resource, from `host`.

    A tuple, not a dataclass: a reconcile builds hundreds of thousands of these from every describe, and a
    tuple's construction, hash and comparison run in C (a frozen dataclass's __init__ and __hash__ in Python
    were most of a no-op reconcile's time). Ordered and hashed field by field, as the dataclass was."""

    principal: str  # "User:<name>"
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = "*"


@dataclass(frozen=True)
class TopicSpec:
    """A topic as it should be: partitions and the configs Logwarden sets on it (others are left alone)."""

    name: str
    partitions: int = 1
    replication_factor: int = 1
    configs: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class TopicState:
    """A topic as the broker has it: partitions and its non-default (explicitly set) configs."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ScramUpsert:
    """Sets the SCRAM-SHA-512 credential of `user`. The password lives only as long as this object."""

    user: str
    password: str = field(repr=False)
    iterations: int = 4096  # Kafka's default and minimum for SCRAM-SHA-512


@dataclass(frozen=True)
class EnsureTopicsResult:
    created: list[str]
    reconfigured: list[str]
    unchanged: list[str]
    failed: dict[str, str] = field(default_factory=dict)  # topic → why the broker refused to create or change it


@dataclass(frozen=True)
class BatchResult:
    """What a batch call did item by item: the broker confirmed `done`; `failed` maps every other item to why."""

    done: tuple = ()
    failed: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class OutgoingRecord:
    """A record to produce: its value and, when the producer must choose them, its partition and timestamp."""

    value: bytes
    partition: int | None = None
    timestamp_ms: int | None = None


class ConsumedRecord(NamedTuple):
    """A record as read from a partition: where it is, the broker's timestamp (ms since the epoch), its value. A
    named tuple: a download makes one per record, and a tuple is made several times faster than a dataclass."""

    partition: int
    offset: int
    timestamp_ms: int
    value: bytes
