"""Simulated nodes, for the tests and the benchmarks: Node objects that kwok (started by the harness's kube service)
plays the kubelet of, so the scheduler binds a DaemonSet's pods to them and they run (phase Running, ready), and a
node can be lost the way a real one is: its kubelet stops reporting, and once the node monitor grace period passes
(portal.devservices.kube.NODE_MONITOR_GRACE_SECONDS) the node lifecycle controller marks it unknown, taints it
unreachable and marks its pods not ready.

kwok keeps playing the kubelet of a node it once took on (dropping its annotation does not stop it, and its
initialize stage reports a node that says it is not ready ready again), so losing a node replaces its Node object
with one kwok does not manage — same name, labels and taints, so its pods stay bound to it — whose kubelet reports
it ready one last time and then nothing."""
from __future__ import annotations

from datetime import datetime, timezone

from portal.devservices.kube import SIMULATED_NODE_ANNOTATION
from shipper.kube.client import KubeCluster

NODE_MANAGER = "logwarden-simulated-node"
KUBELET = "kubelet"  # the field manager of the last status a lost node's kubelet reports


def _node(name: str, labels: dict[str, str] | None, taints: list[dict] | None, *, simulated: bool) -> dict:
    metadata: dict = {"name": name, "labels": labels or {}}
    if simulated:
        metadata["annotations"] = dict([SIMULATED_NODE_ANNOTATION])
    node: dict = {"apiVersion": "v1", "kind": "Node", "metadata": metadata}
    if taints:
        node["spec"] = {"taints": taints}
    return node


def simulate_node(cluster: KubeCluster, name: str, *, labels: dict[str, str] | None = None,
                  taints: list[dict] | None = None) -> None:
    """Creates (or keeps) the node; kwok reports it ready within a moment."""
    cluster.apply(_node(name, labels, taints, simulated=True), field_manager=NODE_MANAGER)


def lose_node(cluster: KubeCluster, name: str, *, labels: dict[str, str] | None = None,
              taints: list[dict] | None = None) -> None:
    """The node's kubelet stops reporting (see the module's note); give the labels and taints it was simulated
    with."""
    cluster.delete("v1", "Node", name)
    cluster.apply(_node(name, labels, taints, simulated=False), field_manager=NODE_MANAGER)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cluster.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                   "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                              "message": "kubelet is posting ready status",
                                              "lastHeartbeatTime": now, "lastTransitionTime": now}]}},
                  field_manager=KUBELET, subresource="status")


def remove_node(cluster: KubeCluster, name: str) -> None:
    cluster.delete("v1", "Node", name)
