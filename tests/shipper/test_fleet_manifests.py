"""The fleet's Kubernetes objects: an unprivileged DaemonSet, RBAC limited to reading pods, namespaces and nodes,
the password only ever in the Secret (and not even there in a revision). Pure."""
from __future__ import annotations

import dataclasses

import pytest

from shipper.fleet.manifests import HASH_ANNOTATION, manifests, rebind_credential
from shipper.fleet.renderers import render
from shipper.fleet.spec import FleetSpec, KafkaTarget, Route

SPEC = FleetSpec(name="eu-west", flavour="otel", kube_namespace="logwarden-shipper", image="otel/x:0.155.0",
                 kafka=KafkaTarget("kafka-1:9092"), routes=(Route("payments", "logs.payments"),),
                 tolerations=({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"},),
                 node_selector=(("kubernetes.io/os", "linux"),), priority_class="system-node-critical")


def objects(spec: FleetSpec = SPEC) -> dict[str, dict]:
    built, _ = manifests(spec, render(spec), kafka_username="shipper.eu-west.a")
    return {item["kind"]: item for item in built}


def pod_spec(spec: FleetSpec = SPEC) -> dict:
    return objects(spec)["DaemonSet"]["spec"]["template"]["spec"]


def test_the_fleet_is_these_objects_in_apply_order():
    built, _ = manifests(SPEC, render(SPEC), kafka_username="u")
    assert [item["kind"] for item in built] == ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                                "ConfigMap", "Secret", "DaemonSet"]
    assert all(item["metadata"]["labels"]["logwarden.io/fleet"] == "eu-west" for item in built)


def test_cluster_role_only_reads_pods_namespaces_and_nodes():
    role = objects()["ClusterRole"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["namespaces", "nodes", "pods"],
                              "verbs": ["get", "list", "watch"]}]
    binding = objects()["ClusterRoleBinding"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "logwarden-shipper-eu-west",
                                    "namespace": "logwarden-shipper"}]
    assert pod_spec()["serviceAccountName"] == "logwarden-shipper-eu-west"


@pytest.mark.parametrize("flavour", ["otel", "fluent-bit", "fluentd"])
def test_no_container_is_privileged_and_the_root_filesystem_is_read_only(flavour):
    spec = pod_spec(dataclasses.replace(SPEC, flavour=flavour))
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["privileged"] is False and security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        assert set(security["capabilities"].get("add", [])) <= {"DAC_READ_SEARCH"}
        assert container["resources"]["requests"] and container["resources"]["limits"]
    assert "hostNetwork" not in spec and "hostPID" not in spec


@pytest.mark.parametrize("flavour", ["otel", "fluent-bit"])
def test_the_shipper_runs_as_a_non_root_uid_of_at_least_10000(flavour):
    spec = pod_spec(dataclasses.replace(SPEC, flavour=flavour))
    shipper = spec["containers"][0]["securityContext"]
    assert shipper["runAsNonRoot"] is True and shipper["runAsUser"] >= 10000
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] >= 10000


def test_fluentd_is_root_but_unprivileged_as_documented():
    shipper = pod_spec(dataclasses.replace(SPEC, flavour="fluentd"))["containers"][0]["securityContext"]
    assert shipper["runAsUser"] == 0 and shipper["runAsNonRoot"] is False
    assert shipper["privileged"] is False and shipper["capabilities"] == {"drop": ["ALL"], "add": ["DAC_READ_SEARCH"]}


def test_log_access_by_group_adds_no_capability_and_the_supplemental_group():
    spec = pod_spec(dataclasses.replace(SPEC, log_access="group", log_group_id=4242))
    assert spec["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert spec["securityContext"]["supplementalGroups"] == [4242]


def _host_mounts(spec: dict) -> dict[str, tuple[str, bool]]:
    host = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    return {path: bool(mounts[name].get("readOnly")) for name, path in host.items()}


def test_host_mounts_are_read_only_except_the_checkpoint_directory():
    assert _host_mounts(pod_spec()) == {"/var/log/pods": True, "/var/log/containers": True,
                                        "/var/lib/logwarden-shipper": False}
    docker = _host_mounts(pod_spec(dataclasses.replace(SPEC, docker_runtime=True)))
    assert docker["/var/lib/docker/containers"] is True
    assert [path for path, read_only in docker.items() if not read_only] == ["/var/lib/logwarden-shipper"]
    assert all("volumeMounts" not in c for c in pod_spec()["containers"][1:]), "the canary mounts nothing"


def test_scheduling_settings_reach_the_pod():
    spec = pod_spec()
    assert spec["tolerations"] == [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["priorityClassName"] == "system-node-critical"
    resources = spec["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}


def test_the_password_is_only_a_secret_reference_and_the_secret_holds_no_value_in_a_revision():
    built = objects()
    assert "data" not in built["Secret"] and "stringData" not in built["Secret"]
    assert built["Secret"]["metadata"]["annotations"] == {"logwarden.io/kafka-username": "shipper.eu-west.a",
                                                          "logwarden.io/kafka-password": "pending"}
    env = {e["name"]: e["valueFrom"] for e in pod_spec()["containers"][0]["env"]}
    assert env["LOGWARDEN_SHIPPER_PASSWORD"] == {"secretKeyRef": {"name": "logwarden-shipper-eu-west-kafka-a",
                                                                  "key": "password"}}
    (config,) = built["ConfigMap"]["data"].values()
    assert [line.strip() for line in config.splitlines() if "password" in line] == [
        "password: ${env:LOGWARDEN_SHIPPER_PASSWORD}"]


def test_the_pod_template_carries_the_content_hash_so_a_change_rolls_the_pods():
    _, digest = manifests(SPEC, render(SPEC), kafka_username="shipper.eu-west.a")
    template = objects()["DaemonSet"]["spec"]["template"]["metadata"]
    assert template["annotations"] == {HASH_ANNOTATION: digest}
    bigger = dataclasses.replace(SPEC, buffer_mib=128)
    assert manifests(bigger, render(bigger), kafka_username="shipper.eu-west.a")[1] != digest
    assert manifests(SPEC, render(SPEC), kafka_username="shipper.eu-west.b")[1] != digest, \
        "a new credential slot rolls the pods too"
    rotated, _ = manifests(SPEC, render(SPEC), kafka_username="shipper.eu-west.b")
    secret, daemon_set = rotated[-2], rotated[-1]
    assert secret["metadata"]["name"] == "logwarden-shipper-eu-west-kafka-b", "a new Secret for the new slot"
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in daemon_set["spec"]["template"]["spec"]["containers"][0]
            ["env"] if "secretKeyRef" in e["valueFrom"]} == {"logwarden-shipper-eu-west-kafka-b"}
    assert manifests(SPEC, render(SPEC), kafka_username="shipper.eu-west.a", password_kept=True)[1] != digest, \
        "a password provisioned rolls the pods onto it"
    assert manifests(SPEC, render(SPEC), kafka_username="shipper.eu-west.a")[1] == digest


def test_a_rollback_s_objects_move_onto_the_current_credential_slot_as_if_rendered_with_it():
    rendered = render(SPEC)
    old, _ = manifests(SPEC, rendered, kafka_username="shipper.eu-west.a")
    rebound = rebind_credential(old, rendered.file_name, rendered.text, kafka_username="shipper.eu-west.b",
                                password_kept=True)
    assert rebound == manifests(SPEC, rendered, kafka_username="shipper.eu-west.b", password_kept=True)
    assert old == manifests(SPEC, rendered, kafka_username="shipper.eu-west.a")[0], "the stored objects unchanged"
