"""Pods on a simulated node, for the demo and the end-to-end tests: the Pod object on the API server (bound to the
node, as the scheduler would) with a running container's status (as its kubelet would report it), so the
shipper's k8s_attributes finds its labels, node and container id."""
from __future__ import annotations

import hashlib

from shipper.demo.cri import ContainerLog
from shipper.kube.client import KubeCluster

IMAGE = "busybox:1.36"
KUBELET = "kubelet"  # the field manager of the status: not Logwarden's, whose applies would drop it otherwise


def simulate_pod(cluster: KubeCluster, namespace: str, name: str, *, node: str, labels: dict[str, str],
                 container: str = "api") -> ContainerLog:
    """Creates (or keeps) the Pod and reports its container running; returns where its logs go."""
    cluster.ensure_namespace(namespace)
    pod = cluster.apply({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": name, "namespace": namespace, "labels": labels},
                         "spec": {"nodeName": node, "containers": [{"name": container, "image": IMAGE}]}})
    uid = pod["metadata"]["uid"]
    container_id = hashlib.sha256(f"{uid}/{container}".encode()).hexdigest()
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
                   "status": {"phase": "Running", "containerStatuses": [{
                       "name": container, "image": IMAGE, "imageID": "", "ready": True, "restartCount": 0,
                       "containerID": f"containerd://{container_id}",
                       "state": {"running": {"startedAt": pod["metadata"]["creationTimestamp"]}}}]}},
                  subresource="status", field_manager=KUBELET)
    return ContainerLog(namespace, name, uid, container, container_id)
