"""Applying fleets to the real API server (kube-apiserver v1.20 on etcd, started by the harness): every object
created, a second apply a no-op, a dry run that writes nothing, rollback, hand edits found, health read."""
from __future__ import annotations

import pytest

from portal.models import AuditEvent
from shipper.fleet import services
from shipper.fleet.health import HEALTHY, NOT_APPLIED, ROLLING_OUT
from shipper.fleet.manifests import HASH_ANNOTATION, object_name, selector
from tests.fleet_helpers import make_fleet
from tests.helpers import events

pytestmark = [pytest.mark.kube, pytest.mark.django_db]

KINDS = [("v1", "ServiceAccount"), ("rbac.authorization.k8s.io/v1", "ClusterRole"),
         ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ("v1", "ConfigMap"), ("v1", "Secret"),
         ("apps/v1", "DaemonSet")]


@pytest.fixture
def fleet(world, unique, kubeconfig, settings):
    settings.KUBECONFIG = kubeconfig
    return make_fleet(unique)


def stored(kube_cluster, fleet, kind: str, suffix: str = "") -> dict:
    api_version = dict((k, v) for v, k in KINDS)[kind]
    cluster_scoped = kind.startswith("ClusterRole")
    return kube_cluster.get(api_version, kind, object_name(fleet.name) + suffix,
                            None if cluster_scoped else fleet.kube_namespace)


def config_data(kube_cluster, fleet) -> dict:
    return stored(kube_cluster, fleet, "ConfigMap", "-config")["data"]


def test_apply_creates_every_object_and_a_second_apply_changes_nothing(fleet, kube_cluster, world):
    first = services.apply(world.admin, fleet)

    assert first.outcomes == {str(item.key): "created" for item in first.plan.items}
    assert len(first.outcomes) == 7
    for kind, suffix in (("ServiceAccount", ""), ("ClusterRole", ""), ("ClusterRoleBinding", ""),
                         ("ConfigMap", "-config"), ("Secret", "-kafka-a"), ("DaemonSet", "")):
        assert stored(kube_cluster, fleet, kind, suffix) is not None, kind
    secret = stored(kube_cluster, fleet, "Secret", "-kafka-a")
    assert set(secret["data"]) == {"username"}, "no password before the shipper's principal is provisioned"
    versions = {kind: stored(kube_cluster, fleet, kind, suffix)["metadata"]["resourceVersion"]
                for kind, suffix in (("ConfigMap", "-config"), ("DaemonSet", ""), ("Secret", "-kafka-a"))}
    fleet.refresh_from_db()
    assert fleet.live_revision.number == 1 and fleet.live_revision.applied_at is not None

    second = services.apply(world.admin, fleet)

    assert second.outcomes == {} and second.plan.empty
    assert versions == {kind: stored(kube_cluster, fleet, kind, suffix)["metadata"]["resourceVersion"]
                        for kind, suffix in (("ConfigMap", "-config"), ("DaemonSet", ""), ("Secret", "-kafka-a"))}
    first_event, second_event = sorted(events("fleet.apply"), key=lambda event: event.sequence)
    assert len(first_event.data["outcomes"]) == 7
    assert second_event.data["outcomes"] == {} and len(second_event.data["unchanged"]) == 7


def test_a_dry_run_shows_what_would_change_and_writes_nothing(fleet, kube_cluster, world):
    services.apply(world.admin, fleet)
    before = config_data(kube_cluster, fleet)
    revision = services.update_fleet(world.admin, fleet, reason="more buffer", buffer_mib=256)

    result = services.apply(world.admin, fleet, revision=revision, dry_run=True)

    changed = {str(item.key): item for item in result.plan.changes}
    config_map = f"ConfigMap {fleet.kube_namespace}/{object_name(fleet.name)}-config"
    assert set(changed) == {config_map, f"DaemonSet {fleet.kube_namespace}/{object_name(fleet.name)}"}
    assert any("limit_mib: 256" in str(difference) for difference in changed[config_map].differences)
    assert result.outcomes == {name: "updated" for name in changed}, "the server accepted each change"
    assert config_data(kube_cluster, fleet) == before
    fleet.refresh_from_db()
    assert fleet.live_revision.number == 1
    assert len(events("fleet.apply")) == 1


def test_rollback_reapplies_an_old_revision_as_a_new_one(fleet, kube_cluster, world):
    services.apply(world.admin, fleet)
    original = config_data(kube_cluster, fleet)
    services.apply(world.admin, fleet, revision=services.update_fleet(world.admin, fleet, reason="bigger batches",
                                                                      batch_size=5000))
    assert config_data(kube_cluster, fleet) != original

    result = services.rollback(world.admin, fleet, fleet.revisions.get(number=1), reason="batches too big")

    assert result.revision.number == 3 and result.revision.rollback_of.number == 1
    assert result.revision.content_hash == fleet.revisions.get(number=1).content_hash
    assert config_data(kube_cluster, fleet) == original
    daemon_set = stored(kube_cluster, fleet, "DaemonSet")
    assert daemon_set["spec"]["template"]["metadata"]["annotations"][HASH_ANNOTATION] == result.revision.content_hash
    fleet.refresh_from_db()
    assert fleet.live_revision == result.revision
    assert [e.data["to_revision"] for e in events("fleet.rollback")] == [1]


def test_a_hand_edit_is_found_reported_and_reapplied_where_the_fleet_enforces(fleet, kube_cluster, world):
    services.apply(world.admin, fleet)
    name = object_name(fleet.name)
    kube_cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": f"{name}-config", "namespace": fleet.kube_namespace},
                        "data": {"collector.yaml": "receivers: {}\n"}}, field_manager="kubectl-edit")
    kube_cluster.apply({"apiVersion": "apps/v1", "kind": "DaemonSet",
                        "metadata": {"name": name, "namespace": fleet.kube_namespace},
                        "spec": {"template": {"spec": {"containers": [{"name": "shipper", "image": "evil:1"}]}}}},
                       field_manager="kubectl-edit")

    drift = services.check_drift(fleet)

    assert [line.split(":")[0] for line in drift] == [f"ConfigMap {fleet.kube_namespace}/{name}-config",
                                                      f"DaemonSet {fleet.kube_namespace}/{name}"]
    assert "evil:1" in drift[1]
    fleet.refresh_from_db()
    assert fleet.drift == drift and fleet.drift_checked_at is not None
    (reported,) = AuditEvent.objects.filter(action="fleet.drift")
    assert reported.actor_label == "system" and reported.data["drift"] == drift
    assert config_data(kube_cluster, fleet) == {"collector.yaml": "receivers: {}\n"}, "reported, not reverted"

    services.update_fleet(world.admin, fleet, reason="enforce", enforce=True)
    assert services.check_drift(fleet) == drift
    assert services.check_drift(fleet) == [], "the enforcing fleet re-applied its live revision"
    assert config_data(kube_cluster, fleet) == {"collector.yaml": fleet.live_revision.config}
    fleet.refresh_from_db()
    assert fleet.drift == []


def pod(fleet, name: str, digest: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": fleet.kube_namespace, "labels": selector(fleet.name),
                         "annotations": {HASH_ANNOTATION: digest}},
            "spec": {"nodeName": f"node-{name[-1]}", "containers": [{"name": "shipper", "image": "otel:1"}]}}


def test_health_follows_the_daemon_set_status_and_the_pods_revisions(fleet, kube_cluster, world):
    assert services.health(fleet).state == NOT_APPLIED
    services.apply(world.admin, fleet)
    old_hash = fleet.live_revision.content_hash
    for name in ("shipper-a", "shipper-b"):
        kube_cluster.apply(pod(fleet, name, old_hash))
    daemon_set = stored(kube_cluster, fleet, "DaemonSet")

    def status(**counts) -> None:
        kube_cluster.apply({"apiVersion": "apps/v1", "kind": "DaemonSet",
                            "metadata": {"name": object_name(fleet.name), "namespace": fleet.kube_namespace},
                            "status": {"observedGeneration": stored(kube_cluster, fleet, "DaemonSet")["metadata"]
                                       ["generation"], "numberMisscheduled": 0, **counts}},
                           field_manager="test-daemon-set-controller", subresource="status")

    status(desiredNumberScheduled=2, currentNumberScheduled=2, numberReady=2, updatedNumberScheduled=2,
           numberAvailable=2)
    healthy = services.health(fleet)
    assert healthy.state == HEALTHY and (healthy.desired, healthy.ready, healthy.updated) == (2, 2, 2)
    assert [(p.name, p.revision) for p in healthy.pods] == [("shipper-a", 1), ("shipper-b", 1)]

    revision = services.update_fleet(world.admin, fleet, reason="more buffer", buffer_mib=200)
    services.apply(world.admin, fleet, revision=revision)
    assert stored(kube_cluster, fleet, "DaemonSet")["metadata"]["generation"] > daemon_set["metadata"]["generation"]
    assert services.health(fleet).state == ROLLING_OUT, "the controller has not seen the new template"
    status(desiredNumberScheduled=2, currentNumberScheduled=2, numberReady=2, updatedNumberScheduled=1,
           numberAvailable=2)
    kube_cluster.apply(pod(fleet, "shipper-c", revision.content_hash))
    rolling = services.health(fleet)
    assert rolling.state == ROLLING_OUT and rolling.updated == 1
    assert [(p.name, p.revision) for p in rolling.pods] == [("shipper-a", 1), ("shipper-b", 1), ("shipper-c", 2)]
