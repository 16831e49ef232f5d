"""Applying fleets to the real API server (kube-apiserver v1.20 on etcd, started by the harness): every object
created, a second apply a no-op, a dry run that writes nothing, rollback, hand edits found, and health read from
real pods: the DaemonSet controller makes them, the scheduler binds them to nodes kwok simulates."""
from __future__ import annotations

import pytest

from portal.models import AuditEvent
from shipper.fleet import services
from shipper.demo.nodes import lose_node, remove_node, simulate_node
from shipper.fleet.health import DEGRADED, HEALTHY, NOT_APPLIED, ROLLING_OUT
from shipper.fleet.manifests import HASH_ANNOTATION, object_name
from tests.fleet_helpers import make_fleet
from tests.helpers import events, eventually

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


TEST_NODE = "logwarden.io/test-node"


def node_shape(unique: str) -> dict:
    return {"labels": {TEST_NODE: unique}, "taints": [{"key": TEST_NODE, "value": unique, "effect": "NoSchedule"}]}


@pytest.fixture
def nodes(kube_cluster, unique):
    """Two simulated nodes (kwok plays their kubelets) only this test's fleet may run on: they carry a taint of
    the test's and a label its node selector names, so the suite's other fleets keep off them."""
    names = [f"node-{unique}-{n}" for n in (1, 2)]
    for name in names:
        simulate_node(kube_cluster, name, **node_shape(unique))
    yield names
    for name in names:
        remove_node(kube_cluster, name)



def test_health_follows_real_pods_through_a_rollout_and_a_lost_node(world, unique, kubeconfig, settings, nodes,
                                                                    kube_cluster):
    settings.KUBECONFIG = kubeconfig
    fleet = make_fleet(unique, node_selector={TEST_NODE: unique},
                       tolerations=[{"key": TEST_NODE, "operator": "Equal", "value": unique, "effect": "NoSchedule"}])
    assert services.health(fleet).state == NOT_APPLIED
    services.apply(world.admin, fleet)

    # the DaemonSet controller makes a pod per node, the scheduler binds it, kwok runs it
    healthy = eventually(lambda: services.health(fleet), lambda h: h.state == HEALTHY and h.ready == 2,
                         "both pods running and ready", seconds=60)
    assert (healthy.desired, healthy.current, healthy.updated, healthy.unavailable) == (2, 2, 2, 0)
    assert sorted((p.node, p.revision, p.ready, p.phase) for p in healthy.pods) == [
        (nodes[0], 1, True, "Running"), (nodes[1], 1, True, "Running")]

    revision = services.update_fleet(world.admin, fleet, reason="more buffer", buffer_mib=200)
    services.apply(world.admin, fleet, revision=revision)
    seen = []

    def record():
        seen.append(services.health(fleet))
        return seen[-1]

    rolled = eventually(record, lambda h: h.state == HEALTHY and {p.revision for p in h.pods} == {2},
                        "every pod on revision 2", seconds=90)
    assert seen[0].state == ROLLING_OUT, "right after the apply the controller has not caught up"
    assert sorted((p.node, p.revision, p.ready) for p in rolled.pods) == [(nodes[0], 2, True), (nodes[1], 2, True)]
    assert rolled.updated == 2 and {p.name for p in rolled.pods}.isdisjoint(p.name for p in healthy.pods), \
        "the rollout replaced each pod"
    # maxUnavailable 1: the controller rolls one node at a time, so a pod is ready throughout
    assert min(h.ready for h in seen) >= 1, [(h.state, h.ready, [p.revision for p in h.pods]) for h in seen]

    lose_node(kube_cluster, nodes[0], **node_shape(unique))

    def on_nodes(health) -> list[tuple[str, bool]]:
        return sorted((p.node, p.ready) for p in health.pods)

    # past the node monitor grace period the node lifecycle controller marks the node unknown, taints it
    # unreachable (the DaemonSet controller then no longer counts it) and marks the pod left there not ready
    degraded = eventually(lambda: services.health(fleet),
                          lambda h: on_nodes(h) == [(nodes[0], False), (nodes[1], True)] and h.ready == 1,
                          "the lost node's pod shown not ready, and counted", seconds=60)
    assert degraded.state == DEGRADED and degraded.unavailable + degraded.misscheduled == 1, degraded
