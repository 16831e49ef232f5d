"""Reads namespaces from the configured Kubernetes cluster and runs discovery on them."""
from __future__ import annotations

from django.conf import settings

from topics.services.discovery import ObservedNamespace, discover


def discover_from_kubernetes() -> dict:
    if not settings.KUBECONFIG:
        return {"skipped": "no kubeconfig (LOGWARDEN_KUBECONFIG): namespaces are registered by hand"}
    from shipper.kube.client import KubeCluster

    with KubeCluster.from_kubeconfig(settings.KUBECONFIG) as cluster:
        observed = [ObservedNamespace(n.name, n.labels, n.annotations) for n in cluster.list_namespaces()]
    plan = discover(observed)
    return {"created": [ns.name for ns, _, _ in plan.create], "updated": sorted(plan.update),
            "orphaned": plan.orphan, "revived": plan.revive, "seen": len(plan.seen)}
