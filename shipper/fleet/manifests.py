"""The Kubernetes objects of a fleet, as plain manifests: a pure function of its spec and rendered config.

The DaemonSet is unprivileged: no privileged container, no privilege escalation, every capability dropped but
DAC_READ_SEARCH (or, by setting, none and a supplemental group that may read the logs), a non-root UID where the
flavour allows, a read-only root filesystem, the node's log directories mounted read-only and one writable host
directory for checkpoints. The Secret carries the shipper's Kafka username here (and whether its password is
provisioned yet); the password itself is added only when applying (shipper.fleet.services), so no revision, page
or audit event ever holds it. The Secret is named after the credential's slot: a rotation makes a new Secret
that the pods then read. The pod template's annotation is the revision's content hash: a new revision (a new
credential included) rolls the pods, an unchanged one does not.
"""
from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from shipper.canary import lines as canary_lines
from shipper.fleet.renderers import Rendered
from shipper.fleet.spec import CONFIG_DIR, NODE_ENV, PASSWORD_ENV, USERNAME_ENV, FleetSpec

HASH_ANNOTATION = "logwarden.io/config-hash"
CREDENTIAL_ANNOTATION = "logwarden.io/kafka-username"
PASSWORD_ANNOTATION = "logwarden.io/kafka-password"  # "kept" once provisioned, else "pending"
SECRET_LABEL = "logwarden.io/kafka-secret"
FLEET_LABEL = "logwarden.io/fleet"
APP_LABELS = {"app.kubernetes.io/name": "logwarden-shipper", "app.kubernetes.io/managed-by": "logwarden"}
CONTAINER = "shipper"
CANARY_IMAGE = "busybox:1.36"
CANARY_UID = 10002
# fluentd's image reads its configuration and keeps its positions where the organisation has them today
CONFIG_MOUNTS = {"fluentd": "/fluentd/etc"}
CHECKPOINT_MOUNTS = {"fluentd": "/var/log/pos"}


def object_name(fleet_name: str) -> str:
    return f"logwarden-shipper-{fleet_name}"


def secret_name(fleet_name: str, kafka_username: str) -> str:
    """The Secret of one credential slot (`shipper.<fleet>.a` → `…-kafka-a`)."""
    return f"{object_name(fleet_name)}-kafka-{kafka_username.rsplit('.', 1)[-1]}"


def labels(spec: FleetSpec) -> dict[str, str]:
    return {**APP_LABELS, FLEET_LABEL: spec.name}


def selector(fleet_name: str) -> dict[str, str]:
    """The labels of the fleet's pods (the DaemonSet's selector)."""
    return {"app.kubernetes.io/name": APP_LABELS["app.kubernetes.io/name"], FLEET_LABEL: fleet_name}


def _metadata(spec: FleetSpec, name: str, *, namespaced: bool = True, **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": labels(spec), **extra}
    if namespaced:
        metadata["namespace"] = spec.kube_namespace
    return metadata


def content_hash(config_name: str, config: str, manifests: list[dict]) -> str:
    canonical = json.dumps({"config_name": config_name, "config": config, "manifests": manifests},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def manifests(spec: FleetSpec, rendered: Rendered, *, kafka_username: str,
              password_kept: bool = False) -> tuple[list[dict], str]:
    """The objects in apply order, and the content hash their pod template carries."""
    name = object_name(spec.name)
    secret = secret_name(spec.name, kafka_username)
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _metadata(spec, spec.kube_namespace, namespaced=False)},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(spec, name)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": _metadata(spec, name, namespaced=False),
         "rules": [{"apiGroups": [""], "resources": ["namespaces", "nodes", "pods"],
                    "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": _metadata(spec, name, namespaced=False),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": spec.kube_namespace}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _metadata(spec, f"{name}-config"),
         "data": {rendered.file_name: rendered.text}},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {**_metadata(spec, secret, annotations={
             CREDENTIAL_ANNOTATION: kafka_username, PASSWORD_ANNOTATION: "kept" if password_kept else "pending"}),
             "labels": {**labels(spec), SECRET_LABEL: "true"}}},
        _daemon_set(spec, rendered, secret),
    ]
    digest = content_hash(rendered.file_name, rendered.text, objects)
    objects[-1]["spec"]["template"]["metadata"]["annotations"] = {HASH_ANNOTATION: digest}
    return objects, digest


def rebind_credential(objects: list[dict], config_name: str, config: str, *, kafka_username: str,
                      password_kept: bool) -> tuple[list[dict], str]:
    """Stored objects moved onto another credential slot (a rollback to a revision made before a rotation: its
    own slot may be retired), and their new content hash; everything else as stored."""
    objects = copy.deepcopy(objects)
    secret = next(item for item in objects if item["kind"] == "Secret")
    name = secret_name(secret["metadata"]["labels"][FLEET_LABEL], kafka_username)
    secret["metadata"]["name"] = name
    secret["metadata"]["annotations"] = {CREDENTIAL_ANNOTATION: kafka_username,
                                         PASSWORD_ANNOTATION: "kept" if password_kept else "pending"}
    template = objects[-1]["spec"]["template"]
    for env in template["spec"]["containers"][0]["env"]:
        if "secretKeyRef" in env.get("valueFrom", {}):
            env["valueFrom"]["secretKeyRef"]["name"] = name
    template["metadata"].pop("annotations", None)
    digest = content_hash(config_name, config, objects)
    template["metadata"]["annotations"] = {HASH_ANNOTATION: digest}
    return objects, digest


def _host_volume(name: str, path: str, kind: str = "Directory") -> dict:
    return {"name": name, "hostPath": {"path": path, "type": kind}}


def _secret_env(variable: str, secret: str, key: str) -> dict:
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _daemon_set(spec: FleetSpec, rendered: Rendered, secret: str) -> dict:
    name = object_name(spec.name)
    non_root = rendered.run_as_user != 0
    capabilities: dict[str, list[str]] = {"drop": ["ALL"]}
    if spec.log_access == "capability":
        capabilities["add"] = ["DAC_READ_SEARCH"]
    config_mount = CONFIG_MOUNTS.get(spec.flavour, CONFIG_DIR)
    checkpoint_mount = CHECKPOINT_MOUNTS.get(spec.flavour, spec.checkpoint_path)
    volumes = [_host_volume("pods", spec.pods_dir), _host_volume("containers", spec.containers_dir)]
    mounts = [{"name": "pods", "mountPath": spec.pods_dir, "readOnly": True},
              {"name": "containers", "mountPath": spec.containers_dir, "readOnly": True}]
    if spec.docker_runtime:
        volumes.append(_host_volume("docker-containers", "/var/lib/docker/containers"))
        mounts.append({"name": "docker-containers", "mountPath": "/var/lib/docker/containers", "readOnly": True})
    volumes += [_host_volume("checkpoints", spec.checkpoint_path, "DirectoryOrCreate"),
                {"name": "config", "configMap": {"name": f"{name}-config"}}]
    mounts += [{"name": "checkpoints", "mountPath": checkpoint_mount},
               {"name": "config", "mountPath": config_mount, "readOnly": True}]
    pod_security: dict[str, Any] = {"runAsNonRoot": non_root, "runAsUser": rendered.run_as_user,
                                    "runAsGroup": rendered.run_as_user, "seccompProfile": {"type": "RuntimeDefault"}}
    if spec.log_access == "group":
        pod_security["supplementalGroups"] = [spec.log_group_id]
    container = {
        "name": CONTAINER, "image": spec.image, "args": list(rendered.command),
        "env": [{"name": NODE_ENV, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
                _secret_env(USERNAME_ENV, secret, "username"), _secret_env(PASSWORD_ENV, secret, "password")],
        "resources": {"requests": {"cpu": spec.cpu_request, "memory": spec.memory_request},
                      "limits": {"cpu": spec.cpu_limit, "memory": spec.memory_limit}},
        "securityContext": {"privileged": False, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": non_root, "runAsUser": rendered.run_as_user,
                            "capabilities": capabilities},
        "volumeMounts": mounts,
    }
    canary = {
        # a sequence-numbered line on each node every interval, which the shippers route like any record of the
        # fleet's namespace: Logwarden reads them back to show each node's delay and lost lines (shipper.canary)
        "name": canary_lines.CONTAINER, "image": CANARY_IMAGE,
        "command": canary_lines.command(spec.name, spec.canary_interval_seconds),
        "env": [container["env"][0]],
        "resources": {"requests": {"cpu": "1m", "memory": "8Mi"}, "limits": {"cpu": "10m", "memory": "16Mi"}},
        "securityContext": {"privileged": False, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": CANARY_UID, "capabilities": {"drop": ["ALL"]}},
    }
    pod_spec: dict[str, Any] = {"serviceAccountName": name, "securityContext": pod_security,
                                "containers": [container, canary], "volumes": volumes,
                                "terminationGracePeriodSeconds": 30}
    if spec.priority_class:
        pod_spec["priorityClassName"] = spec.priority_class
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(spec.node_selector)
    if spec.tolerations:
        pod_spec["tolerations"] = [dict(t) for t in spec.tolerations]
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _metadata(spec, name),
            "spec": {"selector": {"matchLabels": selector(spec.name)},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                     "template": {"metadata": {"labels": labels(spec)}, "spec": pod_spec}}}
