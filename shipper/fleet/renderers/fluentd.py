"""The fluentd td-agent.conf of a fleet: the setup the organisation runs today, unprivileged. Rendered and
golden-tested; not run here.

in_tail reads /var/log/containers with its position file under /var/log/pos (the checkpoint directory);
kubernetes_metadata adds labels, host and pod id; record_transformer rebuilds the brief's record and sets the
topic from the tag, i.e. the file path (<pod>_<namespace>_<container>-<id>.log), never from the log line; kafka2
writes it over SASL/SCRAM-SHA-512 and leaves the routing key out of the record.
"""
from __future__ import annotations

from shipper.fleet.spec import PASSWORD_ENV, USERNAME_ENV, FleetSpec

FILE_NAME = "td-agent.conf"
CONFIG_DIR = "/fluentd/etc"  # where the fluentd-kubernetes-daemonset image reads its configuration
POS_DIR = "/var/log/pos"
# the daemonset image's entrypoint and plugins write under /fluentd as root: documented in README.md
RUN_AS_USER = 0
ROUTING_KEY = "_logwarden_topic"


def command() -> tuple[str, ...]:
    return ("fluentd", "-c", f"{CONFIG_DIR}/{FILE_NAME}", "--no-supervisor")


def _ruby_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _routes(spec: FleetSpec) -> str:
    return "{" + ", ".join(f"{_ruby_string(r.namespace)} => {_ruby_string(r.topic)}" for r in spec.routes) + "}"


def render(spec: FleetSpec) -> str:
    unrouted = _ruby_string(spec.quarantine_topic) if spec.quarantines else "''"
    namespace = "tag_parts[4].to_s.split('_')[1]"
    parser = "json" if spec.docker_runtime else "cri"
    tls = "true" if spec.kafka.tls else "false"
    return f"""# Rendered by Logwarden for fleet {spec.name}: edits here are reported as drift.
<system>
  log_level info
  root_dir {POS_DIR}/state
</system>

<source>
  @type tail
  @id in_tail_container_logs
  path {spec.containers_dir}/*.log
  pos_file {POS_DIR}/containers.log.pos
  tag kubernetes.*
  read_from_head true
  <parse>
    @type {parser}
  </parse>
</source>

<filter kubernetes.**>
  @type kubernetes_metadata
  @id filter_kube_metadata
  skip_labels false
  skip_container_metadata false
  skip_namespace_metadata true
  skip_master_url true
</filter>

<filter kubernetes.**>
  @type record_transformer
  @id filter_brief_record
  enable_ruby true
  renew_record true
  <record>
    log ${{record["log"]}}
    stream ${{record["stream"]}}
    time ${{record["time"]}}
    docker ${{{{"container_id" => record.dig("docker", "container_id")}}}}
    kubernetes ${{{{"namespace_name" => {namespace}, "pod_name" => record.dig("kubernetes", "pod_name"), \
"pod_id" => record.dig("kubernetes", "pod_id"), "container_name" => record.dig("kubernetes", "container_name"), \
"host" => record.dig("kubernetes", "host"), "labels" => record.dig("kubernetes", "labels") || {{}}}}}}
    {ROUTING_KEY} ${{{_routes(spec)}.fetch({namespace}, {unrouted})}}
  </record>
</filter>

<filter kubernetes.**>
  @type grep
  <exclude>
    key {ROUTING_KEY}
    pattern /^$/
  </exclude>
</filter>

<match kubernetes.**>
  @type kafka2
  @id out_kafka
  brokers {spec.kafka.bootstrap}
  default_topic {spec.quarantine_topic}
  topic_key {ROUTING_KEY}
  exclude_topic_key true
  username "#{{ENV['{USERNAME_ENV}']}}"
  password "#{{ENV['{PASSWORD_ENV}']}}"
  scram_mechanism {spec.kafka.sasl_mechanism.removeprefix("SCRAM-").replace("-", "").lower()}
  sasl_over_ssl {tls}
  required_acks -1
  <format>
    @type json
  </format>
  <buffer {ROUTING_KEY}>
    @type file
    path {POS_DIR}/buffer
    total_limit_size {spec.buffer_mib}m
    chunk_limit_records {spec.batch_size}
    flush_interval {max(1, spec.batch_timeout_ms // 1000)}s
    retry_forever true
  </buffer>
</match>
"""
