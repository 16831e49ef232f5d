"""The Kubernetes adapter: the only package that speaks to the API server (the `kubernetes` client)."""
from .client import FIELD_MANAGER, ConfigMapInfo, KubeCluster, KubeError, KubeUnavailable, NamespaceInfo

__all__ = ["FIELD_MANAGER", "ConfigMapInfo", "KubeCluster", "KubeError", "KubeUnavailable", "NamespaceInfo"]
