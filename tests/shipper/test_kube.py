"""The Kubernetes adapter against a real API server (kube-apiserver v1.20 on etcd, started by the harness):

    python -m portal.devservices run kube --profile test -- .venv/bin/pytest tests/shipper/test_kube.py
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from portal.devservices.base import free_port
from shipper.kube import ConfigMapInfo, KubeCluster, KubeError, KubeUnavailable

pytestmark = pytest.mark.kube


@pytest.fixture
def namespace(kube_cluster, unique) -> str:
    # Namespaces are never deleted here: without a controller manager a deleted namespace stays Terminating,
    # and the harness starts every run on an empty etcd anyway.
    return kube_cluster.ensure_namespace(f"lw-test-{unique}").name


def variant_kubeconfig(kubeconfig: str, tmp_path: Path, *, server: str | None = None, token: str | None = None,
                       trust_ca: bool = True) -> Path:
    """A copy of the harness's kubeconfig pointing elsewhere, with another token or without its CA."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    kube_cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    if server:
        kube_cluster["server"] = server
    if token:
        user["token"] = token
    if not trust_ca:
        kube_cluster.pop("certificate-authority", None)
        kube_cluster.pop("certificate-authority-data", None)
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return path


def test_server_answers_with_its_version(kube_cluster):
    assert kube_cluster.ping() is True
    assert kube_cluster.version().startswith("v1.")


def test_namespace_is_created_and_listed_with_its_labels(kube_cluster, unique):
    name = f"lw-payments-{unique}"

    created = kube_cluster.ensure_namespace(name, labels={"logwarden.io/managed": "true", "team": "payments"})
    again = kube_cluster.ensure_namespace(name, labels={"logwarden.io/managed": "true", "team": "checkout"})

    assert created.name == name and created.uid and created.phase == "Active"
    assert again.uid == created.uid
    listed = {ns.name: ns for ns in kube_cluster.list_namespaces()}
    assert listed[name].labels["logwarden.io/managed"] == "true"
    assert listed[name].labels["team"] == "checkout"
    assert "default" in listed


def test_config_map_apply_is_idempotent_and_changes_are_applied(kube_cluster, namespace):
    first = kube_cluster.apply_config_map(namespace, "shipper", {"fluent-bit.conf": "[INPUT]\n", "parsers.conf": "x"},
                                     labels={"app": "log-shipper"})
    same = kube_cluster.apply_config_map(namespace, "shipper", {"fluent-bit.conf": "[INPUT]\n", "parsers.conf": "x"},
                                    labels={"app": "log-shipper"})
    assert same == first, "applying unchanged content must not write a new revision"
    assert kube_cluster.get_config_map(namespace, "shipper") == ConfigMapInfo(
        namespace=namespace, name="shipper", data={"fluent-bit.conf": "[INPUT]\n", "parsers.conf": "x"},
        labels={"app": "log-shipper"}, resource_version=first)

    changed = kube_cluster.apply_config_map(namespace, "shipper", {"fluent-bit.conf": "[INPUT]\n[OUTPUT]\n"},
                                       labels={"app": "log-shipper"})

    assert changed != first
    stored = kube_cluster.get_config_map(namespace, "shipper")
    assert stored.data == {"fluent-bit.conf": "[INPUT]\n[OUTPUT]\n"}, "a key we no longer apply is removed"
    assert stored.resource_version == changed


def test_config_map_is_deleted(kube_cluster, namespace):
    kube_cluster.apply_config_map(namespace, "doomed", {"k": "v"})

    assert kube_cluster.delete_config_map(namespace, "doomed") is True
    assert kube_cluster.get_config_map(namespace, "doomed") is None
    assert kube_cluster.delete_config_map(namespace, "doomed") is False


def test_apply_serves_objects_of_named_api_groups(kube_cluster, namespace):
    labels = {"app": "log-shipper"}
    manifest = {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "log-shipper", "namespace": namespace},
        "spec": {"selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "fluent-bit", "image": "fluent/fluent-bit:2.2"}]}}},
    }

    stored = kube_cluster.apply(manifest)

    assert stored["metadata"]["uid"]
    read = kube_cluster.get("apps/v1", "DaemonSet", "log-shipper", namespace)
    assert read["spec"]["template"]["spec"]["containers"][0]["image"] == "fluent/fluent-bit:2.2"
    # the DaemonSet controller writes the status meanwhile (a new resourceVersion): what we own stays unwritten
    again = kube_cluster.apply(manifest)["metadata"]
    assert again["generation"] == stored["metadata"]["generation"]
    assert ours(again) == ours(stored["metadata"])


def ours(metadata: dict) -> list[dict]:
    return [entry for entry in metadata["managedFields"] if entry["manager"] == "logwarden"]


def test_invalid_object_is_refused_with_the_servers_reason(kube_cluster, namespace, kubeconfig):
    with pytest.raises(KubeError) as refused:
        kube_cluster.apply_config_map(namespace, "Not_A_Valid_Name", {"k": "v"})

    assert refused.value.status == 422
    message = str(refused.value)
    assert f"apply ConfigMap {namespace}/Not_A_Valid_Name failed: HTTP 422" in message
    assert "Not_A_Valid_Name" in message and "a lowercase RFC 1123 subdomain" in message
    assert kubeconfig in message and kube_cluster.server in message


def test_unknown_kind_is_a_clear_error(kube_cluster, namespace):
    with pytest.raises(KubeError, match="apiVersion v1 has no kind FluentBitConfig"):
        kube_cluster.apply({"apiVersion": "v1", "kind": "FluentBitConfig", "metadata": {"name": "x",
                                                                                   "namespace": namespace}})
    with pytest.raises(KubeError, match="does not serve apiVersion logging.example.com/v1"):
        kube_cluster.get("logging.example.com/v1", "Flow", "x", namespace)


def test_server_on_a_closed_port_is_unavailable(kubeconfig, tmp_path):
    port = free_port()  # bound a moment ago, closed now
    path = variant_kubeconfig(kubeconfig, tmp_path, server=f"https://127.0.0.1:{port}")

    with KubeCluster.from_kubeconfig(path) as kube_cluster, pytest.raises(KubeUnavailable) as unavailable:
        kube_cluster.list_namespaces()

    message = str(unavailable.value)
    assert f"https://127.0.0.1:{port}" in message and str(path) in message
    assert "list namespaces failed: cannot reach the API server" in message and "Connection refused" in message
    assert unavailable.value.status is None


def test_rejected_token_names_the_credentials(kubeconfig, tmp_path):
    path = variant_kubeconfig(kubeconfig, tmp_path, token="not-the-admin-token")

    with KubeCluster.from_kubeconfig(path) as kube_cluster, pytest.raises(KubeError) as rejected:
        kube_cluster.ping()

    assert rejected.value.status == 401
    assert "check readiness failed: HTTP 401 (the kubeconfig's credentials were rejected)" in str(rejected.value)
    assert "not-the-admin-token" not in str(rejected.value)


def test_untrusted_server_certificate_is_unavailable(kubeconfig, tmp_path):
    path = variant_kubeconfig(kubeconfig, tmp_path, trust_ca=False)

    with KubeCluster.from_kubeconfig(path) as kube_cluster, pytest.raises(KubeUnavailable) as untrusted:
        kube_cluster.version()

    assert "read the server version failed: TLS handshake failed" in str(untrusted.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(untrusted.value)


def test_missing_or_malformed_kubeconfig_is_a_clear_error(tmp_path):
    with pytest.raises(KubeUnavailable, match=f"kubeconfig {tmp_path / 'absent'}: no such file"):
        KubeCluster.from_kubeconfig(tmp_path / "absent")

    broken = tmp_path / "broken"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    with pytest.raises(KubeUnavailable, match=f"kubeconfig {broken}: cannot be loaded"):
        KubeCluster.from_kubeconfig(broken)
