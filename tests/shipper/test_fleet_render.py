"""The three renderings of a fleet, golden-tested, and what each must hold whatever the golden file says:
routing by the file path's namespace, never by log content; SASL/SCRAM with the credential from the
environment; checkpoints on disk. Pure.

To accept a deliberate change of the renderings: LOGWARDEN_UPDATE_GOLDEN=1 pytest tests/shipper/test_fleet_render.py
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
import yaml

from shipper.fleet.renderers import render
from shipper.fleet.spec import PASSWORD_ENV, USERNAME_ENV, FleetSpec, KafkaTarget, Route

GOLDEN = Path(__file__).parent / "golden"
SPEC = FleetSpec(name="eu-west", flavour="otel", kube_namespace="logwarden-shipper",
                 image="otel/opentelemetry-collector-contrib:0.155.0",
                 kafka=KafkaTarget("kafka-1:9092,kafka-2:9092"),
                 routes=(Route("checkout", "logs.checkout"), Route("payments", "logs.payments")))
CASES = {
    "otel-collector.yaml": SPEC,
    "otel-collector-drop.yaml": dataclasses.replace(SPEC, unrouted="drop", buffer_mib=256, batch_size=500),
    "fluent-bit.yaml": dataclasses.replace(SPEC, flavour="fluent-bit"),
    "td-agent.conf": dataclasses.replace(SPEC, flavour="fluentd"),
}


@pytest.mark.parametrize("golden", sorted(CASES))
def test_rendering_matches_its_golden_file(golden):
    text = render(CASES[golden]).text
    path = GOLDEN / golden
    if os.environ.get("LOGWARDEN_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{golden} changed: review the diff, then regenerate (see the module doc)"


def test_rendering_is_deterministic_and_follows_the_routes():
    assert render(SPEC).text == render(dataclasses.replace(SPEC)).text
    more = dataclasses.replace(SPEC, routes=(*SPEC.routes, Route("search", "logs.search")))
    assert '"logs.search") where resource.attributes["k8s.namespace.name"] == "search"' in render(more).text
    assert "search" not in render(SPEC).text


def _otel(spec: FleetSpec) -> dict:
    return yaml.safe_load(render(spec).text)


def test_otel_takes_the_namespace_from_the_file_path_and_the_record_shape_from_the_brief():
    config = _otel(SPEC)
    receiver = config["receivers"]["file_log"]
    assert receiver["include"] == ["/var/log/pods/*/*/*.log"] and receiver["include_file_path"] is True
    assert receiver["operators"] == [{"type": "container", "id": "container-parser",
                                      "add_metadata_from_filepath": True}]
    assert receiver["storage"] == "file_storage" and config["extensions"]["file_storage"]["directory"]
    statements = [s for group in config["processors"]["transform/record"]["log_statements"]
                  for s in group["statements"]]
    routing = [s for s in statements if "logwarden.topic" in s]
    # the topic is set from the path's namespace only: nothing about routing reads the body or log attributes
    assert routing and all("body" not in s and " attributes[" not in s for s in routing)
    assert all('where resource.attributes["k8s.namespace.name"] ==' in s for s in routing[1:])
    record = statements[len(routing)]
    for key in ('"log": body', '"stream"', '"time"', '"docker": {"container_id"', '"namespace_name"', '"pod_name"',
                '"pod_id"', '"container_name"', '"host"', '"labels"'):
        assert key in record
    # the namespace in the record is the path's too: k8s_attributes never extracts (so never overwrites) it
    assert "k8s.namespace.name" not in config["processors"]["k8s_attributes"]["extract"]["metadata"]
    assert config["service"]["pipelines"]["logs"]["processors"] == [
        "memory_limiter", "k8s_attributes", "transform/record"], "no batch processor holds checkpointed records"


def test_otel_writes_each_topic_over_sasl_scram_with_the_credential_from_the_environment():
    exporter = _otel(SPEC)["exporters"]["kafka"]
    assert exporter["topic_from_attribute"] == "logwarden.topic"
    assert exporter["logs"] == {"topic": "logs.quarantine", "encoding": "raw"}
    assert exporter["auth"]["sasl"] == {"username": f"${{env:{USERNAME_ENV}}}",
                                        "password": f"${{env:{PASSWORD_ENV}}}", "mechanism": "SCRAM-SHA-512"}
    assert exporter["brokers"] == ["kafka-1:9092", "kafka-2:9092"]
    assert exporter["sending_queue"]["storage"] == "file_storage", "the send queue survives a restart"


def test_otel_dropping_unrouted_namespaces_reads_only_routed_namespaces_files():
    config = _otel(CASES["otel-collector-drop.yaml"])
    assert config["receivers"]["file_log"]["include"] == ["/var/log/pods/checkout_*/*/*.log",
                                                          "/var/log/pods/payments_*/*/*.log"]
    assert config["processors"]["memory_limiter"]["limit_mib"] == 256
    assert config["exporters"]["kafka"]["producer"]["flush_max_messages"] == 500


def test_otel_runs_with_the_synchronous_stanza_emitter_so_checkpoints_follow_what_the_pipeline_took():
    assert render(SPEC).command == ("--config=/etc/logwarden-shipper/collector.yaml",
                                    "--feature-gates=stanza.synchronousLogEmitter")


def test_otel_quotes_what_it_puts_in_statements():
    spec = dataclasses.replace(SPEC, quarantine_topic='q"x')
    assert 'set(resource.attributes["logwarden.topic"], "q\\"x")' in render(spec).text


def test_fluent_bit_keeps_log_lines_as_strings_and_routes_by_the_tag():
    config = yaml.safe_load(render(CASES["fluent-bit.yaml"]).text)
    tail = config["pipeline"]["inputs"][0]
    assert tail["name"] == "tail" and tail["db"].endswith("tail.db") and tail["path"] == "/var/log/containers/*.log"
    kubernetes, lua = config["pipeline"]["filters"]
    assert kubernetes["merge_log"] is False, "Merge_Log would let a JSON line set keys of the record"
    # the routing key is set from the tag (the file's path) in the record Lua builds anew
    assert "string.match(file" in lua["code"] and '["_logwarden_topic"] = topic' in lua["code"]
    assert '["payments"] = "logs.payments"' in lua["code"]
    output = config["pipeline"]["outputs"][0]
    assert output["name"] == "kafka" and output["topic_key"] == "_logwarden_topic"
    assert output["rdkafka.sasl.mechanisms"] == "SCRAM-SHA-512"
    assert output["rdkafka.sasl.password"] == f"${{{PASSWORD_ENV}}}"


def test_fluentd_tails_with_position_files_under_var_log_pos_and_routes_by_the_tag():
    text = render(CASES["td-agent.conf"]).text
    assert "@type tail" in text and "pos_file /var/log/pos/containers.log.pos" in text
    assert "@type kubernetes_metadata" in text and "@type record_transformer" in text and "@type kafka2" in text
    assert "scram_mechanism sha512" in text and f"ENV['{PASSWORD_ENV}']" in text
    topic_line = next(line for line in text.splitlines() if line.strip().startswith("_logwarden_topic "))
    assert "tag_parts[4]" in topic_line and "record[" not in topic_line, "the topic comes from the tag only"
    assert "exclude_topic_key true" in text


@pytest.mark.parametrize("flavour", ["otel", "fluent-bit", "fluentd"])
def test_no_rendering_holds_a_password(flavour):
    lines = [line for line in render(dataclasses.replace(SPEC, flavour=flavour)).text.splitlines()
             if re.search("password", line, re.IGNORECASE)]
    assert lines and all(PASSWORD_ENV in line for line in lines), "only a reference to the Secret's variable"


def test_otel_without_an_api_server_leaves_k8s_attributes_out():
    config = _otel(dataclasses.replace(SPEC, kube_auth=""))
    assert "k8s_attributes" not in config["processors"]
    assert config["service"]["pipelines"]["logs"]["processors"] == ["memory_limiter", "transform/record"]
