"""The per-node canary end to end: the canary's own command (as rendered into the fleet's DaemonSet) writes its
lines into a node's log directory, the real collector on the fleet's config routes them like any record of the
fleet's namespace to that namespace's topic on the real broker, and Logwarden reads them back as its canary reader
(`portal.canary`) into per-node rows, shown on the fleet page and in the API: the last line, the delay from the
node to the broker, and the lines that never arrived.

A second node's canary lines are written by the test with one missing, as if lost on the way; both nodes' logs are
in the one test directory one collector tails (the second node's pod is on no node the collector knows, so its
records carry what their log path says)."""
from __future__ import annotations

import subprocess
import threading
import time

import pytest

from portal.core.audit import SYSTEM
from portal.devservices.otelcol import otelcol_binary
from shipper.canary import lines, principal
from shipper.canary import services as canary
from shipper.demo.collector import LocalCollector
from shipper.demo.cri import LogDirectory
from shipper.demo.pods import simulate_pod
from shipper.fleet import services
from shipper.fleet.manifests import object_name
from shipper.fleet.spec import NODE_ENV
from tests.api_clients import client_as
from tests.fleet_helpers import make_fleet
from tests.helpers import eventually, html
from topics.catalogue import services as catalogue
from topics.kafka.adapter import read_records
from topics.kafka.errors import KafkaAuthorizationError
from topics.provisioning import system_principals

pytestmark = [pytest.mark.kafka, pytest.mark.kube, pytest.mark.django_db]
NODE, LOSSY_NODE = "node-canary-a", "node-canary-b"


@pytest.fixture
def fleet(world, unique, kubeconfig, settings, celery_eager, django_capture_on_commit_callbacks):
    """A fleet whose canary writes every second; its namespace's topic, its shipper and canary reader made by the
    topic sync and the reconciler (inline)."""
    settings.KUBECONFIG = kubeconfig
    with django_capture_on_commit_callbacks(execute=True):
        fleet = make_fleet(unique, world.admin, canary_interval_seconds=1, batch_timeout_ms=10,
                           quarantine_topic=f"logs.quarantine-{unique}")
    with django_capture_on_commit_callbacks(execute=True):
        services.refresh_routing(fleet)
    return fleet


def canary_command(fleet) -> list[str]:
    """The canary container's command in the fleet's latest revision."""
    daemon_set = services.latest_revision(fleet).manifests[-1]
    (container,) = [c for c in daemon_set["spec"]["template"]["spec"]["containers"] if c["name"] == "canary"]
    return container["command"]


def run_canary(command: list[str], logs: LogDirectory, log, *, node: str, seconds: float) -> None:
    """The canary's command on `node` for `seconds`, each line it prints written to its container log as the
    runtime would."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                               env={NODE_ENV: node, "PATH": "/usr/bin:/bin"})

    def copy() -> None:
        for text in process.stdout:
            logs.write(log, [text.rstrip("\n")])

    copier = threading.Thread(target=copy, daemon=True)
    copier.start()
    time.sleep(seconds)
    process.terminate()
    process.wait(5)
    copier.join(5)


def test_each_node_s_canary_shows_its_last_line_its_delay_and_its_lost_lines(world, fleet, kube_cluster, kubeconfig,
                                                                              tmp_path, unique):
    topic = canary.canary_topic(fleet)
    assert services.latest_revision(fleet).routes[fleet.kube_namespace] == topic.name, "routed like any namespace"
    logs = LogDirectory(tmp_path / "var-log")
    pod_name = f"{object_name(fleet.name)}-{unique[:5]}"
    canary_log = simulate_pod(kube_cluster, fleet.kube_namespace, pod_name, node=NODE, labels={"app": "shipper"},
                              container="canary")
    lossy_log = simulate_pod(kube_cluster, fleet.kube_namespace, f"{pod_name}-b", node=LOSSY_NODE,
                             labels={"app": "shipper"}, container="canary")
    for log in (canary_log, lossy_log):
        logs.add(log)
    shipper = system_principals.client_settings(fleet.principal_name, fleet.kafka_cluster)
    collector = LocalCollector(
        otelcol_binary(),
        services.local_config(fleet, log_root=str(logs.root), checkpoint_path=str(tmp_path / "checkpoints")),
        tmp_path / "collector", username=shipper["sasl.username"], password=shipper["sasl.password"], node=NODE,
        kubeconfig=kubeconfig)
    start = int(time.time())
    with collector:
        logs.write(lossy_log, [lines.line(fleet.name, LOSSY_NODE, start, seq) for seq in (1, 2, 3, 5, 6)])
        run_canary(canary_command(fleet), logs, canary_log, node=NODE, seconds=3.5)
        rows = eventually(lambda: (canary.read(fleet), {row.node: row for row in fleet.canary_nodes.all()})[1],
                          lambda found: found.keys() == {NODE, LOSSY_NODE} and found[NODE].last_seq >= 3
                          and found[LOSSY_NODE].last_seq == 6, "both nodes' canary lines read", seconds=60)

    steady, lossy = rows[NODE], rows[LOSSY_NODE]
    assert (steady.pod, steady.missing, steady.duplicates, steady.lines) == (pod_name, 0, 0, steady.last_seq)
    assert 0 <= steady.last_delay_ms <= steady.max_delay_ms < 30_000, collector.log_tail()
    assert (lossy.missing, lossy.missing_seqs, lossy.lines) == (1, [4], 5)
    assert canary.read(fleet).lines == 0, "a read goes on from where the last one stopped"

    auditor = client_as(world, "auditor")
    listed = auditor.get(f"/api/canary-nodes/?fleet={fleet.name}").json()["results"]
    assert [(row["node"], row["missing"], row["missing_seqs"], row["last_seq"]) for row in listed] == [
        (NODE, 0, [], steady.last_seq), (LOSSY_NODE, 1, [4], 6)]
    assert {"last_delay_ms", "max_delay_ms", "last_written_at", "last_arrived_at", "silent"} <= set(listed[0])
    assert [row["node"] for row in auditor.get(f"/api/canary-nodes/?fleet={fleet.name}&lossy=true")
            .json()["results"]] == [LOSSY_NODE]
    assert client_as(world, "engineer").get("/api/canary-nodes/").status_code == 403
    page = html(client_as(world, "auditor").get(f"/fleets/{fleet.name}/"))
    assert f'data-node="{LOSSY_NODE}"' in page and topic.name in page


def test_the_canary_reader_reads_the_canary_topics_and_nothing_else(world, fleet, unique,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        other = catalogue.register_namespace(SYSTEM, name=f"cny-{unique}", owner_team=world.payments).topics.get()
    reader = principal.connection(fleet.kafka_cluster)
    peek = principal.group_of(f"peek-{unique}")  # its own group: the canary read's offsets stay where they are
    assert read_records(reader, canary.canary_topic(fleet).name, group=peek, timeout=3) == []
    with pytest.raises(KafkaAuthorizationError):
        read_records(reader, other.name, group=peek, timeout=3)
