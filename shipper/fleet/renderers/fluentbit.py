"""The Fluent Bit configuration of a fleet (YAML format). Rendered and golden-tested; not run here.

tail reads /var/log/containers (the kubelet's links <pod>_<namespace>_<container>-<id>.log), keeping its
positions in a DB under the checkpoint directory; the kubernetes filter adds labels and host with Merge_Log off,
so a JSON log line stays a string and can never set a key; a Lua filter takes namespace, pod and container id
from the tag (the file's path), builds the brief's record and sets the routing key from that namespace only; the
kafka output writes to that key's topic over SASL/SCRAM. The routing key is always overwritten from the tag, so a
log line naming another namespace or the key stays in its own topic.
"""
from __future__ import annotations

import json

from shipper.fleet.renderers import yaml_text
from shipper.fleet.spec import CONFIG_DIR, PASSWORD_ENV, USERNAME_ENV, FleetSpec

FILE_NAME = "fluent-bit.yaml"
RUN_AS_USER = 10001
TAG_PREFIX = "kube.var.log.containers."
ROUTING_KEY = "_logwarden_topic"

LUA = """local routes = cjson_routes
local unrouted = UNROUTED
function shape(tag, timestamp, record)
  local file = string.sub(tag, PREFIX_LENGTH)
  local pod, namespace, container, id = string.match(file, "^([^_]+)_([^_]+)_(.+)%-(%x+)%.log$")
  if namespace == nil then return -1, timestamp, record end
  local topic = routes[namespace] or unrouted
  if topic == nil then return -1, timestamp, record end
  local k = record["kubernetes"] or {}
  return 1, timestamp, {log = record["log"], stream = record["stream"], time = record["time"],
    docker = {container_id = id},
    kubernetes = {namespace_name = namespace, pod_name = pod, pod_id = k["pod_id"], container_name = container,
                  host = k["host"], labels = k["labels"] or {}},
    ["ROUTING_KEY"] = topic}
end
"""


def command() -> tuple[str, ...]:
    return ("--config", f"{CONFIG_DIR}/{FILE_NAME}")


def _lua(spec: FleetSpec) -> str:
    table = "{" + ", ".join(f"[{json.dumps(r.namespace)}] = {json.dumps(r.topic)}" for r in spec.routes) + "}"
    return (LUA.replace("cjson_routes", table)
            .replace("UNROUTED", json.dumps(spec.quarantine_topic) if spec.quarantines else "nil")
            .replace("PREFIX_LENGTH", str(len(TAG_PREFIX) + 1)).replace("ROUTING_KEY", ROUTING_KEY))


def config(spec: FleetSpec) -> dict:
    sasl = {"rdkafka.security.protocol": spec.kafka.security_protocol.lower(),
            "rdkafka.sasl.mechanisms": spec.kafka.sasl_mechanism,
            "rdkafka.sasl.username": f"${{{USERNAME_ENV}}}", "rdkafka.sasl.password": f"${{{PASSWORD_ENV}}}"}
    return {
        "service": {"flush": 1, "log_level": "info", "storage.path": f"{spec.checkpoint_path}/storage",
                    "storage.sync": "normal", "storage.backlog.mem_limit": f"{spec.buffer_mib}M"},
        "pipeline": {
            "inputs": [{"name": "tail", "path": f"{spec.containers_dir}/*.log", "tag": "kube.*",
                        "multiline.parser": "docker, cri" if spec.docker_runtime else "cri",
                        "db": f"{spec.checkpoint_path}/tail.db", "db.locking": True,
                        "mem_buf_limit": f"{spec.buffer_mib}MB", "skip_long_lines": True,
                        "storage.type": "filesystem", "read_from_head": True}],
            "filters": [
                {"name": "kubernetes", "match": "kube.*", "kube_tag_prefix": TAG_PREFIX, "merge_log": False,
                 "keep_log": True, "labels": True, "annotations": False, "buffer_size": "0"},
                {"name": "lua", "match": "kube.*", "call": "shape", "code": _lua(spec)},
            ],
            "outputs": [{"name": "kafka", "match": "kube.*", "brokers": spec.kafka.bootstrap,
                         "topics": spec.quarantine_topic, "topic_key": ROUTING_KEY, "dynamic_topic": True,
                         "format": "json", "timestamp_key": "@timestamp_ingested",
                         "rdkafka.queue.buffering.max.ms": str(spec.batch_timeout_ms),
                         "rdkafka.batch.num.messages": str(spec.batch_size),
                         "rdkafka.request.required.acks": "-1", **sasl}],
        },
    }


def render(spec: FleetSpec) -> str:
    return yaml_text.dump(config(spec))
