"""The Kubernetes component of the health page (registered by ShipperConfig.ready)."""
from __future__ import annotations

from django.conf import settings

from portal.core.health import ComponentStatus
from shipper.kube.client import KubeCluster, KubeError


def check_kubernetes() -> ComponentStatus:
    if not settings.KUBECONFIG:
        return ComponentStatus("kubernetes", "not configured",
                               "no kubeconfig (LOGWARDEN_KUBECONFIG): namespaces are registered by hand")
    try:
        cluster = KubeCluster.from_kubeconfig(settings.KUBECONFIG)
        version = cluster.version()
    except KubeError as exc:
        return ComponentStatus("kubernetes", "down", str(exc))
    return ComponentStatus("kubernetes", "ok", f"API server {version}")
