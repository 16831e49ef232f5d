"""The OpenTelemetry Collector (v0.155.0, contrib components) configuration of a fleet.

file_log with the container parser reads the kubelet's files and sets k8s.namespace.name, k8s.pod.name,
k8s.pod.uid and k8s.container.name from the file path; k8s_attributes adds the node, the container id and the
pod's labels for the pod of that uid (it never overwrites an attribute the path set); transform builds the
brief's record as the body and sets the topic from the path's namespace; the kafka exporter writes the body
as JSON (`raw`) to the topic in resource attribute logwarden.topic. A namespace without a route gets the
quarantine topic, or, when the fleet drops them, its files are not read at all.

Nothing is lost when the collector is killed: file_log checkpoints its read positions in file_storage and hands
records on synchronously (feature gate stanza.synchronousLogEmitter), the send queue is persistent in the same
storage, and batching happens in the Kafka producer after that queue (no batch processor, which would hold
records already checkpointed). A restart re-sends at most what was in flight: duplicates, never gaps.
"""
from __future__ import annotations

from shipper.fleet.renderers import yaml_text
from shipper.fleet.spec import CONFIG_DIR, NODE_ENV, PASSWORD_ENV, TOPIC_ATTRIBUTE, USERNAME_ENV, FleetSpec

FILE_NAME = "collector.yaml"
RUN_AS_USER = 10001
NAMESPACE = 'resource.attributes["k8s.namespace.name"]'
TOPIC = f'resource.attributes["{TOPIC_ATTRIBUTE}"]'
LABEL_PREFIX = "k8s.pod.labels."
RECORD = ('{"log": body, "stream": attributes["log.iostream"], '
          # FormatTime's %f drops trailing zeros: the brief's time has exactly six fraction digits
          '"time": Format("%s.%06dZ", [FormatTime(time, "%Y-%m-%dT%H:%M:%S"), Nanosecond(time) / 1000]), '
          '"docker": {"container_id": resource.attributes["container.id"]}, '
          '"kubernetes": {"namespace_name": resource.attributes["k8s.namespace.name"], '
          '"pod_name": resource.attributes["k8s.pod.name"], "pod_id": resource.attributes["k8s.pod.uid"], '
          '"container_name": resource.attributes["k8s.container.name"], '
          '"host": resource.attributes["k8s.node.name"], "labels": {}}}')


# Without it the stanza receivers (file_log) hand records on asynchronously and checkpoint read positions before the
# pipeline took them: a SIGKILL then loses the records in flight (measured: 3% of a steady stream).
FEATURE_GATES = ("stanza.synchronousLogEmitter",)


def arguments(config_file: str) -> tuple[str, ...]:
    """The collector's command line on a config file."""
    return (f"--config={config_file}", f"--feature-gates={','.join(FEATURE_GATES)}")


def command() -> tuple[str, ...]:
    return arguments(f"{CONFIG_DIR}/{FILE_NAME}")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _routing_statements(spec: FleetSpec) -> list[str]:
    """The topic of each record from its path's namespace: one statement per topic (a namespace has one)."""
    statements = [f"set({TOPIC}, {_quoted(spec.quarantine_topic)})"]
    for route in spec.routes:
        statements.append(f"set({TOPIC}, {_quoted(route.topic)}) where {NAMESPACE} == {_quoted(route.namespace)}")
    return statements


def _include(spec: FleetSpec) -> list[str]:
    if spec.quarantines:
        return [f"{spec.pods_dir}/*/*/*.log"]
    # namespace names have no "_", so <namespace>_* matches that namespace's pods only
    return [f"{spec.pods_dir}/{namespace}_*/*/*.log" for namespace in spec.routed_namespaces]


def config(spec: FleetSpec) -> dict:
    kafka_auth = {"sasl": {"username": f"${{env:{USERNAME_ENV}}}", "password": f"${{env:{PASSWORD_ENV}}}",
                           "mechanism": spec.kafka.sasl_mechanism}}
    exporter = {
        "brokers": spec.kafka.brokers,
        "topic_from_attribute": TOPIC_ATTRIBUTE,
        "logs": {"topic": spec.quarantine_topic, "encoding": "raw"},
        "auth": kafka_auth,
        # batching happens in the producer, after the persistent send queue holds the records: a batch processor
        # would hold records the receiver has already checkpointed, and a SIGKILL would lose them
        "producer": {"required_acks": -1, "allow_auto_topic_creation": False,
                     "flush_max_messages": spec.batch_size, "linger": f"{spec.batch_timeout_ms}ms"},
        "sending_queue": {"enabled": True, "storage": "file_storage", "queue_size": 1000},
        "retry_on_failure": {"enabled": True, "max_elapsed_time": "0s"},  # never give up on a record
    }
    if spec.kafka.tls:
        exporter["tls"] = {"insecure": False}
    processors: dict = {
        "memory_limiter": {"check_interval": "1s", "limit_mib": spec.buffer_mib,
                           "spike_limit_mib": max(1, spec.buffer_mib // 5)},
        "k8s_attributes": {
            "auth_type": spec.kube_auth,
            "passthrough": False,
            # a restarted shipper with a backlog would otherwise send records before it knows their pods
            "wait_for_metadata": True,
            "filter": {"node_from_env_var": NODE_ENV},
            "pod_association": [{"sources": [{"from": "resource_attribute", "name": "k8s.pod.uid"}]}],
            "extract": {"metadata": ["k8s.node.name", "container.id"],
                        "labels": [{"tag_name": f"{LABEL_PREFIX}$$1", "key_regex": "(.*)", "from": "pod"}]},
        },
        "transform/record": {"error_mode": "ignore", "log_statements": [
            {"context": "resource", "statements": _routing_statements(spec)},
            {"context": "log", "statements": [
                f"set(body, {RECORD})",
                'set(body["kubernetes"]["labels"], resource.attributes)',
                'keep_matching_keys(body["kubernetes"]["labels"], "^k8s\\\\.pod\\\\.labels\\\\.")',
                'replace_all_patterns(body["kubernetes"]["labels"], "key", "^k8s\\\\.pod\\\\.labels\\\\.", "")',
            ]},
        ]},
    }
    if not spec.kube_auth:  # no API server to ask: the records carry what the log path says
        del processors["k8s_attributes"]
    return {
        "extensions": {"file_storage": {"directory": spec.checkpoint_path, "create_directory": True}},
        "receivers": {"file_log": {
            "include": _include(spec),
            "include_file_path": True,
            "include_file_name": False,
            "start_at": "beginning",
            "storage": "file_storage",
            "operators": [{"type": "container", "id": "container-parser", "add_metadata_from_filepath": True}],
        }},
        "processors": processors,
        "exporters": {"kafka": exporter},
        "service": {
            "extensions": ["file_storage"],
            "telemetry": {"logs": {"level": "info"}, "metrics": {"level": "none"}},
            "pipelines": {"logs": {"receivers": ["file_log"],
                                   "processors": list(processors),
                                   "exporters": ["kafka"]}},
        },
    }


def render(spec: FleetSpec) -> str:
    return yaml_text.dump(config(spec))
