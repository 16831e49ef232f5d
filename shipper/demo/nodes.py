"""Simulated nodes, for the tests and the benchmarks: Node objects that kwok (started by the harness's kube service)
plays the kubelet of, so the scheduler binds a DaemonSet's pods to them and they run (phase Running, ready), and a
node can be lost the way a real one is: its kubelet stops reporting and says it is not ready, and the node lifecycle
controller marks its pods not ready.

The node's labels and taints and kwok's annotation have field managers of their own, so losing a node drops the
annotation alone (a server-side apply removes what its manager stated before and leaves out now)."""
from __future__ import annotations

from portal.devservices.kube import SIMULATED_NODE_ANNOTATION
from shipper.kube.client import KubeCluster

NODE_MANAGER = "logwarden-simulated-node"
KWOK_MANAGER = "logwarden-simulated-kubelet"  # states kwok's annotation: while it does, kwok plays the kubelet
KUBELET = "kubelet"  # the field manager of the status a lost node's kubelet reports


def simulate_node(cluster: KubeCluster, name: str, *, labels: dict[str, str] | None = None,
                  taints: list[dict] | None = None) -> None:
    """Creates (or keeps) the node; kwok reports it ready within a moment."""
    node: dict = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}}}
    if taints:
        node["spec"] = {"taints": taints}
    cluster.apply(node, field_manager=NODE_MANAGER)
    key, value = SIMULATED_NODE_ANNOTATION
    cluster.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "annotations": {key: value}}},
                  field_manager=KWOK_MANAGER)


def lose_node(cluster: KubeCluster, name: str) -> None:
    """The node's kubelet stops (kwok leaves it) after reporting the node not ready, as a kubelet whose container
    runtime died does; the node lifecycle controller then marks its pods not ready and taints it."""
    cluster.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}, field_manager=KWOK_MANAGER)
    cluster.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                   "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady",
                                              "message": "container runtime is down"}]}},
                  field_manager=KUBELET, subresource="status")


def remove_node(cluster: KubeCluster, name: str) -> None:
    cluster.delete("v1", "Node", name)
