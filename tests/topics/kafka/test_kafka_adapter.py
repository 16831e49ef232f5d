"""The Kafka adapter against the real broker (KRaft, SASL/SCRAM-SHA-512, StandardAuthorizer)."""
from __future__ import annotations

import ctypes
import json
import threading
import time

import pytest

from tests.helpers import create_acls_visibly, eventually
from topics.kafka.adapter import (THREAD_STACK_BYTES, KafkaAdmin, KafkaConnection, _from_ck, _to_ck, produce,
                                  read_records)
from topics.kafka.errors import KafkaAuthorizationError, KafkaUnavailable
from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType, ScramUpsert, TopicSpec

pytestmark = pytest.mark.kafka


def test_bindings_convert_to_confluent_kafka_and_back_unchanged():
    """The lookup tables built once from confluent-kafka's enums cover every kind in both directions (its BROKER
    is our CLUSTER)."""
    ours = [AclBinding("User:u.x.a", ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, Operation.ALTER),
            AclBinding("User:u.x.a", ResourceType.GROUP, "u.x.", PatternType.PREFIXED, Operation.READ,
                       Permission.DENY, "10.0.0.1"),
            *(AclBinding("User:s", kind, "t", PatternType.LITERAL, operation)
              for kind in ResourceType for operation in Operation)]
    assert [_from_ck(_to_ck(binding)) for binding in ours] == ours


def test_topic_is_created_with_retention_configs_and_ensure_is_idempotent(kafka_admin, unique):
    spec = TopicSpec(f"logs.payments-{unique}", partitions=2,
                     configs={"retention.ms": "86400000", "cleanup.policy": "delete"})

    first = kafka_admin.ensure_topics([spec])
    second = kafka_admin.ensure_topics([spec])

    assert first.created == [spec.name]
    assert second.created == [] and second.reconfigured == [] and second.unchanged == [spec.name]
    state = kafka_admin.describe_topics([spec.name])[spec.name]
    assert state.partitions == 2
    assert state.configs["retention.ms"] == "86400000"
    assert state.configs["cleanup.policy"] == "delete"


def test_a_topic_the_broker_refuses_is_reported_on_its_own_and_the_others_are_ensured(kafka_admin, unique):
    fine, wider = TopicSpec(f"logs.fine-{unique}"), TopicSpec(f"logs.wider-{unique}")
    kafka_admin.ensure_topics([wider])
    refused_config = TopicSpec(wider.name, configs={"cleanup.policy": "no-such-policy"})

    result = kafka_admin.ensure_topics([TopicSpec(""), fine, refused_config])  # "" is no topic name

    assert result.created == [fine.name] and fine.name in kafka_admin.list_topics()
    assert set(result.failed) == {"", wider.name} and result.reconfigured == [] and result.unchanged == []
    assert "creating topic" in result.failed[""] and "setting configs of topic" in result.failed[wider.name]


def test_a_listing_sent_early_is_what_ensure_topics_creates_from(kafka_admin, unique):
    """The reconciler sends the topic listing with its describes; a topic it shows is not created again, one
    missing from it is, and a topic created after the listing was sent only makes its creation a no-op."""
    present, missing = f"logs.early-{unique}", f"logs.late-{unique}"
    kafka_admin.ensure_topics([TopicSpec(present)])
    listed = kafka_admin.send_list_topics()
    assert present in listed() and missing not in listed()

    result = kafka_admin.ensure_topics([TopicSpec(present), TopicSpec(missing)], listed=listed)
    again = kafka_admin.ensure_topics([TopicSpec(missing)], listed=listed)  # stale: `missing` now exists

    assert result.created == [missing] and result.unchanged == [present]
    assert again.created == [] and again.unchanged == [missing]
    assert {present, missing} <= set(kafka_admin.list_topics())


def test_changed_retention_is_applied_to_an_existing_topic(kafka_admin, unique):
    name = f"logs.checkout-{unique}"
    kafka_admin.ensure_topics([TopicSpec(name, configs={"retention.ms": "3600000"})])

    result = kafka_admin.ensure_topics([TopicSpec(name, partitions=3, configs={"retention.ms": "7200000",
                                                                               "retention.bytes": "1048576"})])

    assert result.reconfigured == [name]
    state = kafka_admin.describe_topics([name])[name]
    assert state.configs == {"retention.ms": "7200000", "retention.bytes": "1048576"}
    # the controller acknowledges new partitions before every broker's metadata lists them
    eventually(lambda: kafka_admin.describe_topics([name])[name].partitions, lambda count: count == 3,
               "the topic did not show 3 partitions")


def test_scram_user_with_acls_reads_its_topic_and_is_denied_another(kafka_admin, kafka_connection, unique):
    allowed, other = f"logs.allowed-{unique}", f"logs.other-{unique}"
    user, password = f"reader-{unique}", f"pw-{unique}-correct-horse"
    kafka_admin.ensure_topics([TopicSpec(allowed), TopicSpec(other)])
    record = json.dumps({"log": "GET /health 200\n", "kubernetes": {"namespace_name": "payments"}}).encode()
    produce(kafka_connection, allowed, [record])
    produce(kafka_connection, other, [b"secret"])
    kafka_admin.upsert_scram_credentials([ScramUpsert(user, password)])
    bindings = [
        AclBinding(f"User:{user}", ResourceType.TOPIC, allowed, PatternType.LITERAL, Operation.READ),
        AclBinding(f"User:{user}", ResourceType.TOPIC, allowed, PatternType.LITERAL, Operation.DESCRIBE),
        AclBinding(f"User:{user}", ResourceType.GROUP, f"{user}.", PatternType.PREFIXED, Operation.READ),
    ]
    create_acls_visibly(kafka_admin, bindings)
    as_user = kafka_connection.as_user(user, password)

    assert read_records(as_user, allowed, group=f"{user}.test") == [record]
    with pytest.raises(KafkaAuthorizationError):
        read_records(as_user, other, group=f"{user}.test")
    # the group prefix belongs to the user: a group outside it is refused
    with pytest.raises(KafkaAuthorizationError):
        read_records(as_user, allowed, group=f"someone-else-{unique}")


def test_acls_are_described_and_deleted_in_batches(kafka_admin, unique):
    principal = f"User:batch-{unique}"
    bindings = [AclBinding(principal, ResourceType.TOPIC, f"logs.ns{i}-{unique}", PatternType.LITERAL, op)
                for i in range(50) for op in (Operation.READ, Operation.DESCRIBE)]

    def described_soon(expected: list[AclBinding]) -> list[AclBinding]:
        # the broker's authorizer applies a write a moment after the controller acknowledged it
        deadline = time.monotonic() + 10
        while (found := sorted(kafka_admin.describe_acls(principal=principal))) != expected and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    kafka_admin.create_acls(bindings)
    assert described_soon(sorted(bindings)) == sorted(bindings)

    kafka_admin.delete_acls(bindings[:60])
    assert described_soon(sorted(bindings[60:])) == sorted(bindings[60:])


def test_scram_credentials_are_listed_and_deleted(kafka_admin, unique):
    users = [f"svc-{unique}-{i}" for i in range(3)]
    kafka_admin.upsert_scram_credentials([ScramUpsert(u, f"password-{u}") for u in users])
    eventually(kafka_admin.list_scram_users, lambda listed: set(users) <= listed, "the new users were not listed")

    kafka_admin.delete_scram_credentials(users[:2])
    kafka_admin.delete_scram_credentials(users[:2])  # deleting what is gone is not an error

    remaining = eventually(kafka_admin.list_scram_users, lambda listed: not set(users[:2]) & listed,
                           "the deleted users were still listed")
    assert users[2] in remaining


def test_wrong_password_is_refused_with_a_message_naming_the_setting(kafka_connection, unique):
    admin = KafkaAdmin(kafka_connection.as_user(kafka_connection.username, "not-the-password"), timeout=5)
    with pytest.raises(KafkaUnavailable, match="KAFKA_SASL_USERNAME"):
        admin.list_topics()


def test_wrong_bootstrap_address_gives_a_message_naming_the_setting():
    admin = KafkaAdmin(KafkaConnection("127.0.0.1:1", username="admin", password="x"), timeout=2)
    with pytest.raises(KafkaUnavailable, match=r"KAFKA_BOOTSTRAP=127\.0\.0\.1:1"):
        admin.ping()


def test_password_never_appears_in_repr(kafka_connection):
    assert kafka_connection.password not in repr(kafka_connection)
    assert "hunter2" not in repr(ScramUpsert("u", "hunter2"))


def test_scram_users_are_described_by_name_in_bounded_batches(kafka_connection, unique):
    admin = KafkaAdmin(kafka_connection, scram_describe_batch=3)
    users = [f"batch-{unique}-{i}" for i in range(7)]
    admin.upsert_scram_credentials([ScramUpsert(u, f"password-{u}") for u in users])

    found = admin.describe_scram_users([*users, f"batch-{unique}-absent", f"batch-{unique}-gone"])

    assert found == set(users)  # three requests, absent names are simply not there
    admin.delete_scram_credentials(users)


def test_each_binding_has_its_own_outcome_and_a_refused_one_stops_nothing(kafka_admin, unique):
    good = [AclBinding(f"User:outcome-{unique}", ResourceType.TOPIC, f"t-{unique}-{i}", PatternType.LITERAL,
                       Operation.READ) for i in range(3)]
    refused = AclBinding(f"User:outcome-{unique}", ResourceType.TOPIC, "", PatternType.LITERAL, Operation.READ)

    result = kafka_admin.create_acls([refused, *good])

    assert set(result.done) == set(good) and set(result.failed) == {refused}
    assert "Invalid empty resource name" in result.failed[refused]
    assert set(kafka_admin.delete_acls(good).done) == set(good)


def test_threads_get_the_stack_a_large_acl_describe_needs():
    """librdkafka parses a DescribeAcls answer on the stack of its main thread (about 48 bytes a binding): new
    threads get THREAD_STACK_BYTES, not glibc's 8 MiB default."""
    libc = ctypes.CDLL(None)
    libc.pthread_self.restype = ctypes.c_ulong
    seen = []

    def measure() -> None:
        attributes = ctypes.create_string_buffer(256)
        libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attributes)
        size = ctypes.c_size_t()
        libc.pthread_attr_getstacksize(attributes, ctypes.byref(size))
        libc.pthread_attr_destroy(attributes)
        seen.append(size.value)

    thread = threading.Thread(target=measure)
    thread.start()
    thread.join()
    assert seen[0] >= THREAD_STACK_BYTES
