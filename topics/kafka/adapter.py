"""The Kafka adapter: the only module that imports confluent-kafka.

Every operation takes a batch and makes one AdminClient call per batch chunk, never one call per item.
Broker answers are translated into the plain values of `topics.kafka.types`, and broker errors into
`KafkaAdapterError`s whose messages name the setting or resource concerned.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from confluent_kafka import (Consumer, ConsumerGroupTopicPartitions, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka import admin as ck

from .errors import KafkaAdapterError, KafkaAuthorizationError, KafkaUnavailable
from .types import (AclBinding, BatchResult, ConsumedRecord, EnsureTopicsResult, Operation, OutgoingRecord,
                    PatternType, Permission, ResourceType, ScramUpsert, TopicSpec, TopicState)

log = logging.getLogger("logwarden.kafka")
# librdkafka's own log lines (connection refused, retries) go through Python logging, not raw stderr
librdkafka_log = logging.getLogger("logwarden.kafka.librdkafka")

BATCH = 1000
# librdkafka salts and hashes each SCRAM password client-side (PBKDF2) before the request goes out, so a
# credential batch costs CPU per item: smaller batches keep each request well inside the timeout
SCRAM_BATCH = 200
# librdkafka fails a DescribeUserScramCredentials answer describing more than some thousands of users
# ("ApiArrayCnt out of range"), so users are described by name, this many per request unless configured
SCRAM_DESCRIBE_BATCH = 1000
READ_BATCH = 10_000  # messages taken from librdkafka's queue per consume() call by the log and archive readers
# how soon librdkafka fetches again once its queue of a partition is full: its default (1 s) stalled every read
# that re-assigns (a download reads each partition backwards, a chunk at a time) at a few thousand records/s
FETCH_QUEUE_BACKOFF_MS = 5
T = TypeVar("T")

# librdkafka parses a DescribeAcls answer on its main thread, copying each binding's principal and host (and each
# resource's name) onto that thread's stack with alloca inside the loop (rdkafka_admin.c,
# rd_kafka_DescribeAclsResponse_parse), released only once the whole answer is parsed: about 48 bytes a binding.
# The 100,000-grant benchmark's 210,000 bindings overflowed the 8 MiB default stack (a segfault in rdk:main); this
# much covers about a million. It is address space, touched only as deep as a thread goes.
THREAD_STACK_BYTES = 64 * 1024 * 1024


def _roomy_thread_stacks(size: int) -> None:
    """Makes threads created from now on (librdkafka's, which take the process default) get at least `size` bytes
    of stack, through glibc's pthread_setattr_default_np; elsewhere (macOS, musl) the platform's default stays."""
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "pthread_setattr_default_np"):
        return
    attributes = ctypes.create_string_buffer(256)  # a pthread_attr_t, 56 bytes on x86-64 and arm64 glibc
    if libc.pthread_getattr_default_np(attributes) != 0:
        return
    current = ctypes.c_size_t()
    libc.pthread_attr_getstacksize(attributes, ctypes.byref(current))
    if current.value < size and libc.pthread_attr_setstacksize(attributes, ctypes.c_size_t(size)) == 0:
        libc.pthread_setattr_default_np(attributes)
    libc.pthread_attr_destroy(attributes)


_roomy_thread_stacks(THREAD_STACK_BYTES)

_UNAVAILABLE = {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT,
                KafkaError._RESOLVE, KafkaError.REQUEST_TIMED_OUT}
_AUTHENTICATION = {KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED}
_AUTHORIZATION = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED,
                  KafkaError.CLUSTER_AUTHORIZATION_FAILED, KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}


@dataclass(frozen=True)
class KafkaConnection:
    """Where a cluster is and who we are on it. The password never appears in repr()."""

    bootstrap: str
    security_protocol: str = "SASL_PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KafkaConnection:
        return cls(bootstrap=env["KAFKA_BOOTSTRAP"],
                   security_protocol=env.get("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
                   sasl_mechanism=env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
                   username=env.get("KAFKA_SASL_USERNAME", ""), password=env.get("KAFKA_SASL_PASSWORD", ""))

    @classmethod
    def from_settings(cls) -> KafkaConnection:
        from django.conf import settings

        kafka = settings.KAFKA
        if not kafka["bootstrap"]:
            raise KafkaUnavailable("KAFKA_BOOTSTRAP is not set: no Kafka cluster is configured")
        return cls(bootstrap=kafka["bootstrap"], security_protocol=kafka["security_protocol"],
                   sasl_mechanism=kafka["sasl_mechanism"], username=kafka["sasl_username"],
                   password=kafka["sasl_password"])

    def as_user(self, username: str, password: str) -> KafkaConnection:
        return KafkaConnection(self.bootstrap, self.security_protocol, self.sasl_mechanism, username, password)

    def client_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap, "security.protocol": self.security_protocol,
                                  "logger": librdkafka_log}
        if self.security_protocol.startswith("SASL"):
            config.update({"sasl.mechanism": self.sasl_mechanism, "sasl.username": self.username,
                           "sasl.password": self.password})
        return config


def _translate(exc: KafkaException, connection: KafkaConnection, what: str) -> KafkaAdapterError:
    error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
    detail = error.str() if error else str(exc)
    code = error.code() if error else None
    if code in _AUTHENTICATION:
        return KafkaUnavailable(f"Kafka at KAFKA_BOOTSTRAP={connection.bootstrap} refused the credentials of "
                                f"KAFKA_SASL_USERNAME={connection.username!r} ({what}: {detail})")
    if code in _UNAVAILABLE:
        return KafkaUnavailable(f"no Kafka broker answered at KAFKA_BOOTSTRAP={connection.bootstrap} "
                                f"({what}: {detail})")
    if code in _AUTHORIZATION:
        return KafkaAuthorizationError(f"{connection.username or 'the client'} is not authorized: {what} "
                                       f"({detail})")
    name = error.name() if error else type(exc).__name__
    return KafkaAdapterError(f"{what} failed on Kafka at {connection.bootstrap}: {name}: {detail}")


def _chunks(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class KafkaAdmin:
    """Batched administrative operations on one cluster."""

    def __init__(self, connection: KafkaConnection, *, timeout: float = 10.0,
                 scram_describe_batch: int = SCRAM_DESCRIBE_BATCH):
        self.connection = connection
        self.timeout = timeout
        self.scram_describe_batch = scram_describe_batch
        config = connection.client_config()
        # fail fast instead of librdkafka's endless reconnect when nothing listens
        config.update({"socket.timeout.ms": int(timeout * 1000), "reconnect.backoff.max.ms": 1000,
                       "error_cb": self._remember_error})
        try:
            self._client = ck.AdminClient(config)
        except KafkaException as exc:
            raise KafkaAdapterError(f"cannot set up a Kafka client for KAFKA_BOOTSTRAP={connection.bootstrap}: "
                                    f"{exc.args[0].str()}") from None
        self._authentication_failed: KafkaError | None = None

    def _remember_error(self, error: KafkaError) -> None:
        # librdkafka reports a refused login only here; the failing request just sees a transport error
        if error.code() in _AUTHENTICATION:
            self._authentication_failed = error

    def _translate(self, exc: KafkaException, what: str) -> KafkaAdapterError:
        self._client.poll(0)  # serves pending error callbacks
        if self._authentication_failed is not None:  # reported once: the client lives on and may log in later
            exc, self._authentication_failed = KafkaException(self._authentication_failed), None
        return _translate(exc, self.connection, what)

    @classmethod
    def from_settings(cls) -> KafkaAdmin:
        from django.conf import settings

        return cls(KafkaConnection.from_settings(), timeout=settings.KAFKA["timeout_seconds"],
                   scram_describe_batch=settings.KAFKA["scram_describe_batch"])

    # -- helpers ------------------------------------------------------------------------------------
    def _result(self, future: Future, what: str) -> Any:
        try:
            return future.result(timeout=self.timeout + 5)
        except KafkaException as exc:
            raise self._translate(exc, what) from None
        except TimeoutError:
            raise KafkaUnavailable(f"no answer from Kafka at KAFKA_BOOTSTRAP={self.connection.bootstrap} "
                                   f"within {self.timeout:.0f}s ({what})") from None

    def _outcomes(self, futures: Iterable[tuple[T, Future]], what: Callable[[T], str],
                  tolerated: Collection[int] = ()) -> BatchResult:
        """Each item's own outcome, read from its own future: one refused item does not hide the others'.
        An error whose code is in `tolerated` means the item is already as asked (e.g. deleting what is gone)."""
        done, failed = [], {}
        for item, future in futures:
            try:
                future.result(timeout=self.timeout + 5)
            except KafkaException as exc:
                if exc.args and isinstance(exc.args[0], KafkaError) and exc.args[0].code() in tolerated:
                    done.append(item)
                else:
                    failed[item] = str(self._translate(exc, what(item)))
            except TimeoutError:
                failed[item] = (f"no answer from Kafka at KAFKA_BOOTSTRAP={self.connection.bootstrap} within "
                                f"{self.timeout:.0f}s ({what(item)})")
            else:
                done.append(item)
        return BatchResult(tuple(done), failed)

    def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except KafkaException as exc:
            raise self._translate(exc, what) from None

    # -- cluster ------------------------------------------------------------------------------------
    def ping(self) -> bool:
        """True when the cluster answers an authenticated metadata request; raises KafkaUnavailable if not."""
        self._call("listing topics", lambda: self._client.list_topics(timeout=self.timeout))
        return True

    def describe_cluster(self) -> dict[str, Any]:
        description = self._result(self._client.describe_cluster(request_timeout=self.timeout),
                                   "describing the cluster")
        return {"cluster_id": description.cluster_id, "brokers": len(description.nodes),
                "controller": description.controller.id if description.controller else None}

    # -- topics -------------------------------------------------------------------------------------
    def list_topics(self) -> dict[str, int]:
        """Topic name → partition count (internal topics excluded)."""
        metadata = self._call("listing topics", lambda: self._client.list_topics(timeout=self.timeout))
        return {name: len(t.partitions) for name, t in metadata.topics.items() if not name.startswith("__")}

    def send_list_topics(self) -> Callable[[], dict[str, int]]:
        """Sends `list_topics` now and returns what waits for its answer, like `send_describe_acls`: the client's
        call blocks, so it waits on a thread of its own while the caller reads its database."""
        return _LISTINGS.submit(self.list_topics).result

    def describe_topics(self, names: Iterable[str] | None = None) -> dict[str, TopicState]:
        """The named topics (all when None) with their explicitly set configs; missing topics are absent."""
        partitions = self.list_topics()
        wanted = sorted(partitions if names is None else set(names) & set(partitions))
        configs = self.describe_topic_configs(wanted)
        return {name: TopicState(name, partitions[name], configs[name]) for name in wanted}

    def describe_topic_configs(self, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """The explicitly set (dynamic) configs of each named topic; all chunks are in flight at once."""
        futures: dict = {}
        for chunk in _chunks(list(names)):
            futures.update(self._client.describe_configs(
                [ck.ConfigResource(ck.ResourceType.TOPIC, name) for name in chunk], request_timeout=self.timeout))
        configs: dict[str, dict[str, str]] = {}
        for resource, future in futures.items():
            entries = self._result(future, f"describing configs of topic {resource.name}")
            configs[resource.name] = {key: entry.value for key, entry in entries.items()
                                      if entry.source == ck.ConfigSource.DYNAMIC_TOPIC_CONFIG.value}
        return configs

    def ensure_topics(self, specs: Sequence[TopicSpec], *, verify_configs: Collection[str] | None = None,
                      listed: Callable[[], dict[str, int]] | None = None) -> EnsureTopicsResult:
        """Creates missing topics, grows partitions and sets the configs that differ; idempotent.

        Reading configs back is the costly part (confluent-kafka builds an object per config entry: about
        0.5 ms of CPU per topic), so `verify_configs` may name the existing topics to compare (None: all).
        `listed`: the answer of a listing sent earlier (`send_list_topics`), instead of listing now.
        """
        existing = listed() if listed is not None else self.list_topics()
        missing = [s for s in specs if s.name not in existing]
        already, failed = self._create_topics(missing)
        if already:  # another writer created them, or our listing was stale: wait until they are visible
            existing = self._wait_until_listed(sorted(already))
        created = [s for s in missing if s.name not in already and s.name not in failed]
        present = [s for s in specs if s.name in existing]
        checked = [s for s in present if verify_configs is None or s.name in verify_configs or s.name in already]
        current = self.describe_topic_configs([s.name for s in checked])
        to_alter = [s for s in checked if any(current[s.name].get(k) != v for k, v in s.configs.items())]
        failed.update(self.set_topic_configs({s.name: s.configs for s in to_alter}))
        grow = {s.name: s.partitions for s in present if s.partitions > existing[s.name]}
        failed.update(self._add_partitions(grow))
        reconfigured = ({s.name for s in to_alter} | set(grow)) - set(failed)
        return EnsureTopicsResult(created=[s.name for s in created], reconfigured=sorted(reconfigured),
                                  unchanged=sorted(s.name for s in present
                                                   if s.name not in reconfigured and s.name not in failed),
                                  failed=failed)

    def delete_topics(self, names: Sequence[str]) -> BatchResult:
        """Deletes the named topics (a topic already gone counts as deleted); each topic's own outcome."""
        done: list[str] = []
        failed: dict[str, str] = {}
        for chunk in _chunks(list(names)):
            futures = self._client.delete_topics(list(chunk), operation_timeout=self.timeout,
                                                 request_timeout=self.timeout)
            result = self._outcomes(futures.items(), lambda name: f"deleting topic {name}",
                                    tolerated={KafkaError.UNKNOWN_TOPIC_OR_PART})
            done += result.done
            failed.update(result.failed)
        return BatchResult(tuple(done), failed)

    def _create_topics(self, specs: Sequence[TopicSpec]) -> tuple[set[str], dict[str, str]]:
        """Creates the topics; returns those that turned out to exist already (another writer was first) and
        why each topic the broker refused was refused. An unreachable broker raises."""
        already: set[str] = set()
        failed: dict[str, str] = {}
        for chunk in _chunks(specs):
            futures = self._client.create_topics(
                [ck.NewTopic(s.name, num_partitions=s.partitions, replication_factor=s.replication_factor,
                             config=dict(s.configs)) for s in chunk],
                operation_timeout=self.timeout, request_timeout=self.timeout)
            for name, future in futures.items():
                try:
                    future.result(timeout=self.timeout + 5)
                except TimeoutError:
                    raise KafkaUnavailable(f"no answer from Kafka at KAFKA_BOOTSTRAP={self.connection.bootstrap} "
                                           f"within {self.timeout:.0f}s (creating topic {name})") from None
                except KafkaException as exc:
                    # created by another writer, or not yet in the metadata we listed: that is convergence
                    if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                        already.add(name)
                        continue
                    error = self._translate(exc, f"creating topic {name}")
                    if isinstance(error, KafkaUnavailable):
                        raise error from None
                    failed[name] = str(error)
        return already, failed

    def _wait_until_listed(self, names: Sequence[str]) -> dict[str, int]:
        """Lists topics until `names` appear: brokers learn of a new topic shortly after the controller."""
        deadline = time.monotonic() + self.timeout
        while True:
            listed = self.list_topics()
            if set(names) <= set(listed):
                return listed
            if time.monotonic() > deadline:
                raise KafkaAdapterError(f"topics {sorted(set(names) - set(listed))} were created but did not "
                                        f"appear in the metadata of {self.connection.bootstrap} within "
                                        f"{self.timeout:.0f}s")
            time.sleep(0.1)

    def set_topic_configs(self, configs: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
        """Sets (incrementally: other keys stay) the given configs on each topic; returns why each topic the
        broker refused was refused."""
        failed: dict[str, str] = {}
        for chunk in _chunks(list(configs.items())):
            resources = [ck.ConfigResource(ck.ResourceType.TOPIC, name, incremental_configs=[
                ck.ConfigEntry(key, value, incremental_operation=ck.AlterConfigOpType.SET)
                for key, value in values.items()]) for name, values in chunk]
            futures = self._client.incremental_alter_configs(resources, request_timeout=self.timeout)
            failed.update(self._outcomes(((resource.name, future) for resource, future in futures.items()),
                                         lambda name: f"setting configs of topic {name}").failed)
        return failed

    def _add_partitions(self, partitions: Mapping[str, int]) -> dict[str, str]:
        if not partitions:
            return {}
        futures = self._client.create_partitions(
            [ck.NewPartitions(name, count) for name, count in partitions.items()], request_timeout=self.timeout)
        return self._outcomes(futures.items(), lambda name: f"adding partitions to topic {name}").failed

    # -- SCRAM credentials --------------------------------------------------------------------------
    def list_scram_users(self) -> set[str]:
        """Every user that holds a SCRAM-SHA-512 credential, in one request: for a few thousand users at most
        (operators' checks and tests); the reconciler describes the users it knows by name."""
        future = self._client.describe_user_scram_credentials(request_timeout=self.timeout)
        descriptions = self._result(future, "describing SCRAM credentials")
        return {user for user, description in descriptions.items() if _has_scram_sha_512(description)}

    def describe_scram_users(self, names: Iterable[str]) -> set[str]:
        """Those of `names` that hold a SCRAM-SHA-512 credential, `scram_describe_batch` names per request."""
        return self.send_describe_scram_users(names)()

    def send_describe_scram_users(self, names: Iterable[str]) -> Callable[[], set[str]]:
        """Sends every request of `describe_scram_users` now (all in flight at once) and returns what waits for
        the answers, so the caller can do other work while the broker answers."""
        futures: dict = {}
        for chunk in _chunks(sorted(set(names)), self.scram_describe_batch):
            futures.update(self._client.describe_user_scram_credentials(list(chunk), request_timeout=self.timeout))

        def answer() -> set[str]:
            found: set[str] = set()
            for user, future in futures.items():
                try:
                    description = future.result(timeout=self.timeout + 5)
                except KafkaException as exc:
                    if exc.args[0].code() == KafkaError.RESOURCE_NOT_FOUND:
                        continue
                    raise self._translate(exc, f"describing the SCRAM credential of {user}") from None
                except TimeoutError:
                    raise KafkaUnavailable(f"no answer from Kafka at KAFKA_BOOTSTRAP={self.connection.bootstrap} "
                                           f"within {self.timeout:.0f}s (describing SCRAM credentials)") from None
                if _has_scram_sha_512(description):
                    found.add(user)
            return found

        return answer

    def upsert_scram_credentials(self, upserts: Sequence[ScramUpsert]) -> BatchResult:
        """Sets each credential; the result names users (not upserts: those hold the password)."""
        done: list[str] = []
        failed: dict[str, str] = {}
        for chunk in _chunks(list(upserts), SCRAM_BATCH):
            alterations = [ck.UserScramCredentialUpsertion(
                u.user, ck.ScramCredentialInfo(ck.ScramMechanism.SCRAM_SHA_512, u.iterations),
                u.password.encode()) for u in chunk]
            result = self._outcomes(
                self._client.alter_user_scram_credentials(alterations, request_timeout=self.timeout).items(),
                lambda user: f"setting the SCRAM credential of {user}")
            done += result.done
            failed.update(result.failed)
        return BatchResult(tuple(done), failed)

    def delete_scram_credentials(self, users: Sequence[str]) -> BatchResult:
        done: list[str] = []
        failed: dict[str, str] = {}
        for chunk in _chunks(list(users)):
            deletions = [ck.UserScramCredentialDeletion(user, ck.ScramMechanism.SCRAM_SHA_512) for user in chunk]
            result = self._outcomes(
                self._client.alter_user_scram_credentials(deletions, request_timeout=self.timeout).items(),
                lambda user: f"deleting the SCRAM credential of {user}", tolerated={KafkaError.RESOURCE_NOT_FOUND})
            done += result.done
            failed.update(result.failed)
        return BatchResult(tuple(done), failed)

    # -- consumer groups ----------------------------------------------------------------------------
    def consumer_group_offsets(self, prefixes: Sequence[str]) -> dict[str, dict[str, dict[str, int]]]:
        """group → {topic: {partition: committed offset}} of every consumer group whose id starts with one of
        `prefixes`; a group with nothing committed maps to {}. The committed offsets of all groups are asked at
        once (one request per group: the broker's OffsetFetch of a group)."""
        listing = self._result(self._client.list_consumer_groups(request_timeout=self.timeout),
                               "listing consumer groups")
        groups = sorted(g.group_id for g in listing.valid if g.group_id.startswith(tuple(prefixes)))
        futures = [(group, future) for group in groups for future in self._client.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)], request_timeout=self.timeout).values()]
        offsets: dict[str, dict[str, dict[str, int]]] = {}
        for group, future in futures:
            committed: dict[str, dict[str, int]] = {}
            answer = self._result(future, f"fetching the committed offsets of group {group}")
            for partition in answer.topic_partitions:
                if partition.error is None and partition.offset >= 0:
                    committed.setdefault(partition.topic, {})[str(partition.partition)] = partition.offset
            offsets[group] = committed
        return offsets

    # -- ACLs ---------------------------------------------------------------------------------------
    def describe_acls(self, *, principal: str | None = None, resource_type: ResourceType | None = None,
                      resource_name: str | None = None) -> list[AclBinding]:
        """Every ACL binding matching the filter (None matches anything), in one request, unordered."""
        return self.send_describe_acls(principal=principal, resource_type=resource_type,
                                       resource_name=resource_name)()

    def send_describe_acls(self, *, principal: str | None = None, resource_type: ResourceType | None = None,
                           resource_name: str | None = None) -> Callable[[], list[AclBinding]]:
        """Sends `describe_acls` now and returns what waits for its answer, so the caller can read its database
        while the broker answers (a no-op reconcile is mostly these two waits)."""
        acl_filter = ck.AclBindingFilter(
            ck.ResourceType[resource_type.value] if resource_type else ck.ResourceType.ANY, resource_name,
            ck.ResourcePatternType.ANY, principal, None, ck.AclOperation.ANY, ck.AclPermissionType.ANY)
        future = self._client.describe_acls(acl_filter, request_timeout=self.timeout)

        def answer() -> list[AclBinding]:
            return [ours for ours in map(_from_ck, self._result(future, "describing ACLs")) if ours is not None]

        return answer

    def create_acls(self, bindings: Sequence[AclBinding]) -> BatchResult:
        return self._acl_batches(bindings, _to_ck, self._client.create_acls, "creating ACL")

    def delete_acls(self, bindings: Sequence[AclBinding]) -> BatchResult:
        return self._acl_batches(bindings, _to_ck_filter, self._client.delete_acls, "deleting ACL")

    def _acl_batches(self, bindings: Sequence[AclBinding], convert: Callable[[AclBinding], Any],
                     call: Callable[..., dict], doing: str) -> BatchResult:
        done: list[AclBinding] = []
        failed: dict[AclBinding, str] = {}
        for chunk in _chunks(list(bindings)):
            requests = [(binding, convert(binding)) for binding in chunk]
            futures = call([request for _, request in requests], request_timeout=self.timeout)
            result = self._outcomes(((binding, futures[request]) for binding, request in requests),
                                    lambda b: f"{doing} {b.principal} {b.permission.value} {b.operation.value} "
                                              f"{b.resource_type.value}:{b.resource_name} ({b.pattern_type.value})")
            done += result.done
            failed.update(result.failed)
        return BatchResult(tuple(done), failed)


# where `send_list_topics` waits: a listing per reconcile in flight at once, whatever the number of clusters
_LISTINGS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kafka-list-topics")

# confluent-kafka names the cluster resource BROKER; Kafka's own tools (and these types) say CLUSTER
_CK_RESOURCE = {ResourceType.CLUSTER: "BROKER"}


def _ck_fields(b: AclBinding) -> tuple:
    return (ck.ResourceType[_CK_RESOURCE.get(b.resource_type, b.resource_type.value)], b.resource_name,
            ck.ResourcePatternType[b.pattern_type.value], b.principal, b.host,
            ck.AclOperation[b.operation.value], ck.AclPermissionType[b.permission.value])


def _to_ck(b: AclBinding) -> ck.AclBinding:
    return ck.AclBinding(*_ck_fields(b))


def _to_ck_filter(b: AclBinding) -> ck.AclBindingFilter:
    return ck.AclBindingFilter(*_ck_fields(b))


def _has_scram_sha_512(description: Any) -> bool:
    return any(info.mechanism == ck.ScramMechanism.SCRAM_SHA_512 for info in description.scram_credential_infos)


def _by_ck_value(ck_enum: Any, ours: Any) -> dict[int, Any]:
    """confluent-kafka's enum values → our members of the same name; those we do not model are left out."""
    return {int(member.value): ours[member.name] for member in ck_enum if member.name in ours.__members__}


# looked up once per binding of every describe (hundreds of thousands in a reconcile), by the plain ints
# confluent-kafka keeps on each binding (`restype_int`, …): hashing its Enum members runs Python code each time
_RESOURCE_OF = {**_by_ck_value(ck.ResourceType, ResourceType), int(ck.ResourceType.BROKER.value): ResourceType.CLUSTER}
_PATTERN_OF = _by_ck_value(ck.ResourcePatternType, PatternType)
_OPERATION_OF = _by_ck_value(ck.AclOperation, Operation)
_PERMISSION_OF = _by_ck_value(ck.AclPermissionType, Permission)


def _from_ck(b: ck.AclBinding) -> AclBinding | None:
    """Our value for a broker binding; None for kinds these types do not model (they cannot concern the
    topics and consumer groups Logwarden manages)."""
    resource, pattern = _RESOURCE_OF.get(b.restype_int), _PATTERN_OF.get(b.resource_pattern_type_int)
    operation, permission = _OPERATION_OF.get(b.operation_int), _PERMISSION_OF.get(b.permission_type_int)
    if resource is None or pattern is None or operation is None or permission is None:
        log.warning("ignoring an ACL binding of a kind Logwarden does not model: %s", b)
        return None
    return AclBinding(b.principal, resource, b.name, pattern, operation, permission, b.host)


# -- data path: reading and producing records ---------------------------------------------------------
def produce(connection: KafkaConnection, topic: str, values: Iterable[bytes | OutgoingRecord], *,
            timeout: float = 10.0) -> int:
    """Produces `values` (plain values, or records with their partition and timestamp) to `topic` and waits for
    every acknowledgement; returns how many were written."""
    failures: list[KafkaError] = []
    producer = Producer({**connection.client_config(), "acks": "all", "message.timeout.ms": int(timeout * 1000)})

    def delivered(err: KafkaError | None, _msg: Any) -> None:
        if err is not None:
            failures.append(err)

    count = 0
    for value in values:
        record = value if isinstance(value, OutgoingRecord) else OutgoingRecord(value)
        placement = {key: given for key, given in (("partition", record.partition),
                                                   ("timestamp", record.timestamp_ms)) if given is not None}
        producer.produce(topic, record.value, on_delivery=delivered, **placement)
        producer.poll(0)
        count += 1
    producer.flush(timeout)
    if failures:
        raise _translate(KafkaException(failures[0]), connection, f"producing to topic {topic}")
    return count


class _ConsumerOf(contextlib.AbstractContextManager):
    """What the adapter's consumers of one topic share: the consumer (its settings plus the error callback), a
    refused login remembered from librdkafka's error callback (it otherwise shows as "all brokers down"), and
    closing it on the way out of a `with` block."""

    def __init__(self, connection: KafkaConnection, topic: str, settings: Mapping[str, Any]):
        self.connection, self.topic = connection, topic
        self._refused: KafkaError | None = None
        self._consumer = Consumer({**connection.client_config(), **settings, "error_cb": self._on_error})

    def _on_error(self, error: KafkaError) -> None:
        if error.code() in _AUTHENTICATION:
            self._refused = error

    def close(self) -> None:
        self._consumer.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class TopicReader(_ConsumerOf):
    """A consumer of one topic as one principal. A refused login or a missing ACL raises at once."""

    def __init__(self, connection: KafkaConnection, topic: str, *, group: str):
        super().__init__(connection, topic, {"group.id": group, "auto.offset.reset": "earliest",
                                             "enable.auto.commit": True, "session.timeout.ms": 10000})
        self._consumer.subscribe([topic])

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[bytes]:
        """The records that arrive within `timeout` seconds (at most `max_records`)."""
        messages = self._consumer.consume(max_records, timeout)
        if self._refused is not None:
            raise _translate(KafkaException(self._refused), self.connection, f"reading topic {self.topic}")
        records = []
        for message in messages:
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise _translate(KafkaException(message.error()), self.connection, f"reading topic {self.topic}")
            records.append(message.value())
        return records


def read_records(connection: KafkaConnection, topic: str, *, group: str, max_records: int = 100,
                 timeout: float = 10.0) -> list[bytes]:
    """Reads `topic` from the beginning as consumer group `group`: up to `max_records` values, stopping
    early once records have come and a poll brings no more."""
    records: list[bytes] = []
    deadline = time.monotonic() + timeout
    with TopicReader(connection, topic, group=group) as reader:
        while len(records) < max_records and time.monotonic() < deadline:
            batch = reader.poll(0.5, max_records - len(records))
            if not batch and records:
                break
            records += batch
    return records


class LogReader(_ConsumerOf):
    """Reads one topic by offset as one principal, for the portal's log views: partitions are `assign`ed, so the
    reader joins no consumer group and commits nothing (nobody's position moves), and a time becomes offsets
    with `offsets_for_times` (an index lookup on the broker, never a scan). Use it as a context manager: the
    consumer is closed on the way out."""

    def __init__(self, connection: KafkaConnection, topic: str, *, timeout: float = 10.0, fetch_wait_ms: int = 10,
                 fetch_bytes: int | None = None):
        """`fetch_wait_ms`: how long the broker holds a fetch with nothing new. Short for paging, where every
        read re-assigns and would otherwise wait for the previous long poll; longer for a follow. `fetch_bytes`:
        the most one fetch brings of a partition (librdkafka's default, 1 MiB, unless given): more for a
        download, which reads thousands of records at a time."""
        self.timeout = timeout
        # confluent-kafka wants a group id even for a consumer that only assigns, and librdkafka then looks its
        # coordinator up: one under the principal's own group prefix, never joined nor committed to
        super().__init__(connection, topic, {"group.id": f"{connection.username}.logs",
                                             "enable.auto.commit": False, "enable.auto.offset.store": False,
                                             "auto.offset.reset": "earliest", "enable.partition.eof": True,
                                             "socket.timeout.ms": int(timeout * 1000),
                                             # a follow's memory stays bounded: librdkafka pre-fetches this much
                                             "queued.max.messages.kbytes": 4096, "fetch.wait.max.ms": fetch_wait_ms,
                                             # and, that much queued, fetches again this soon (not after 1 s)
                                             "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
                                             **({"max.partition.fetch.bytes": fetch_bytes} if fetch_bytes else {})})

    def _failed(self, exc: KafkaException, what: str) -> KafkaAdapterError:
        return _translate(KafkaException(self._refused) if self._refused is not None else exc, self.connection,
                          f"{what} of topic {self.topic}")

    def partitions(self) -> list[int]:
        """The topic's partition numbers; KafkaAuthorizationError when the principal may not describe it."""
        try:
            metadata = self._consumer.list_topics(self.topic, timeout=self.timeout)
        except KafkaException as exc:
            raise self._failed(exc, "listing the partitions") from None
        described = metadata.topics.get(self.topic)
        if described is None or described.error is not None:
            error = described.error if described is not None else KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
            raise self._failed(KafkaException(error), "listing the partitions")
        return sorted(described.partitions)

    def bounds(self, partitions: Iterable[int]) -> dict[int, tuple[int, int]]:
        """Each partition's (first offset, next offset to be written)."""
        try:
            return {p: self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=self.timeout,
                                                            cached=False) for p in partitions}
        except KafkaException as exc:
            raise self._failed(exc, "reading the offsets") from None

    def offsets_at(self, timestamp_ms: int, partitions: Iterable[int]) -> dict[int, int | None]:
        """Each partition's first offset whose record time is at or after `timestamp_ms` (None: no such record)."""
        wanted = [TopicPartition(self.topic, p, timestamp_ms) for p in partitions]
        if not wanted:
            return {}
        try:
            found = self._consumer.offsets_for_times(wanted, timeout=self.timeout)
        except KafkaException as exc:
            raise self._failed(exc, "looking up offsets by time") from None
        for tp in found:
            if tp.error is not None:
                raise self._failed(KafkaException(tp.error), "looking up offsets by time")
        return {tp.partition: (tp.offset if tp.offset >= 0 else None) for tp in found}

    def read(self, partition: int, start: int, end: int, *, deadline: float) -> list[ConsumedRecord]:
        """The records of [start, end) of one partition, in offset order (fewer if the deadline, a monotonic
        time, passes first)."""
        if start >= end:
            return []
        self.assign({partition: start})
        records: list[ConsumedRecord] = []
        position = start
        while time.monotonic() < deadline:
            # consume() returns once it has that many messages: the offsets left plus the end-of-partition event
            batch, at_end = self._consume(min(end - position + 1, READ_BATCH),
                                          max(0.0, min(1.0, deadline - time.monotonic())))
            if batch and batch[-1].offset >= end:
                records += [record for record in batch if record.offset < end]
                break
            records += batch
            if at_end or (records and records[-1].offset >= end - 1):
                break
            if batch:
                position = batch[-1].offset + 1
        return records

    def assign(self, positions: Mapping[int, int]) -> None:
        """Reads on from these offsets (partition → offset) at the next `poll`."""
        try:
            self._consumer.assign([TopicPartition(self.topic, p, offset) for p, offset in positions.items()])
        except KafkaException as exc:
            raise self._failed(exc, "assigning the partitions") from None

    def poll(self, timeout: float, max_records: int) -> list[ConsumedRecord]:
        """Whatever arrives on the assigned partitions within `timeout` seconds (at most `max_records`)."""
        return self._consume(max_records, timeout)[0]

    def _consume(self, max_records: int, timeout: float) -> tuple[list[ConsumedRecord], bool]:
        """Up to `max_records` records and whether a partition reported its end."""
        try:
            messages = self._consumer.consume(max(1, max_records), timeout)
        except KafkaException as exc:
            raise self._failed(exc, "reading") from None
        if self._refused is not None:
            raise self._failed(KafkaException(self._refused), "reading")
        records, at_end = [], False
        append = records.append
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    at_end = True
                    continue
                raise self._failed(KafkaException(error), "reading")
            append(ConsumedRecord(message.partition(), message.offset(), message.timestamp()[1],
                                  message.value() or b""))
        return records, at_end


# --- the archiver's consumer ------------------------------------------------------------------------------

class ArchivedRecord(NamedTuple):
    """One consumed record as the archive needs it: where it is, its timestamp (ms since the epoch) and value (a
    named tuple: one is made per record archived, several times faster than a dataclass)."""

    partition: int
    offset: int
    timestamp_ms: int
    value: bytes | None


class ArchiveConsumer(_ConsumerOf):
    """Reads one topic partition by partition for the archive, as consumer group `group`, without subscribing
    (no rebalance: the caller assigns and seeks), in bounded batches; offsets are committed only when the caller
    says so, synchronously (enable.auto.commit off)."""

    def __init__(self, connection: KafkaConnection, topic: str, *, group: str, timeout: float = 10.0):
        self.timeout = timeout
        super().__init__(connection, topic, {"group.id": group, "enable.auto.commit": False,
                                             "enable.auto.offset.store": False, "enable.partition.eof": True,
                                             "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                                             "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS})

    def _raise_refused(self, what: str) -> None:
        if self._refused is not None:
            raise _translate(KafkaException(self._refused), self.connection, what)

    def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            result = call()
        except KafkaException as exc:
            self._raise_refused(what)  # a refused login shows as "all brokers down": say what it was
            raise _translate(exc, self.connection, what) from None
        self._raise_refused(what)
        return result

    def partitions(self) -> list[int]:
        what = f"describing topic {self.topic}"
        metadata = self._call(what, lambda: self._consumer.list_topics(self.topic, timeout=self.timeout))
        described = metadata.topics.get(self.topic)
        if described is None or described.error is not None:
            error = described.error if described else KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
            raise _translate(KafkaException(error), self.connection, what)
        return sorted(described.partitions)

    def watermarks(self, partition: int) -> tuple[int, int]:
        """(low, high): the first offset the broker still holds and the offset the next record will get."""
        return self._call(f"reading the offsets of topic {self.topic}", lambda: self._consumer.get_watermark_offsets(
            TopicPartition(self.topic, partition), timeout=self.timeout))

    def committed(self, partitions: Sequence[int]) -> dict[int, int | None]:
        """The group's committed offset (the next one to read) per partition; None where it committed none."""
        answered = self._call(f"reading the committed offsets of topic {self.topic}", lambda: self._consumer.committed(
            [TopicPartition(self.topic, p) for p in partitions], timeout=self.timeout))
        return {tp.partition: tp.offset if tp.offset >= 0 else None for tp in answered}

    def read(self, partition: int, start: int, end: int, *,
             batch: int = READ_BATCH) -> Iterator[list[ArchivedRecord]]:
        """The records of the partition with offsets in [start, end), in batches of at most `batch`; it stops at
        `end` or at the partition's end, whichever comes first (offsets need not be dense)."""
        what = f"reading topic {self.topic}"
        self._call(what, lambda: self._consumer.assign([TopicPartition(self.topic, partition, start)]))
        try:
            done, position, silent_since = start >= end, start, time.monotonic()
            while not done:
                # consume() returns once it has that many messages (or after the wait): at most the offsets left
                # plus the end-of-partition event, so a dense range never waits
                wanted = min(batch, end - position + 1)
                messages = self._call(what, lambda: self._consumer.consume(wanted, 0.5))
                if not messages:
                    if time.monotonic() - silent_since > self.timeout:
                        raise KafkaUnavailable(f"{what}: no answer within {self.timeout:g} s at partition "
                                               f"{partition}")
                    continue
                silent_since = time.monotonic()
                records = []
                append = records.append
                for message in messages:
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            done = True
                            break
                        raise _translate(KafkaException(error), self.connection, what)
                    offset = message.offset()
                    if offset >= end:
                        done = True
                        break
                    append(ArchivedRecord(partition, offset, message.timestamp()[1], message.value()))
                if records:
                    position = records[-1].offset + 1
                    done = done or position >= end
                    yield records
        finally:
            self._consumer.unassign()

    def commit(self, partition: int, next_offset: int) -> None:
        """Commits `next_offset` (the first offset not yet archived) for the group, waiting for the broker."""
        self._call(f"committing the archive's offsets of topic {self.topic}", lambda: self._consumer.commit(
            offsets=[TopicPartition(self.topic, partition, next_offset)], asynchronous=False))
