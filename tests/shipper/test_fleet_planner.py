"""The pure fleet planner (desired manifests × observed objects) and the pure health reading. Pure."""
from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from shipper.fleet.routing import describe_change
from shipper.fleet.health import DEGRADED, HEALTHY, NOT_APPLIED, ROLLING_OUT, assess
from shipper.fleet.manifests import HASH_ANNOTATION
from shipper.fleet.planner import CREATE, UNCHANGED, UPDATE, ObjectKey, differences, plan

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "s",
                                                                    "labels": {"app": "x"}},
              "data": {"collector.yaml": "a: 1\n"}}
DAEMON_SET = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d", "namespace": "s"},
              "spec": {"template": {"spec": {"containers": [{"name": "shipper", "image": "otel:1",
                                                              "securityContext": {"privileged": False}}]}}}}


def stored(manifest: dict, **server_fields) -> dict:
    """The object as an API server returns it: what was applied plus defaults and bookkeeping."""
    obj = copy.deepcopy(manifest)
    obj["metadata"].update(uid="u-1", resourceVersion="7", managedFields=[{"manager": "logwarden"}])
    obj.update(server_fields)
    return obj


def test_missing_objects_are_created_and_stored_ones_with_server_defaults_are_unchanged():
    daemon_set = stored(DAEMON_SET, status={"numberReady": 1})
    daemon_set["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    result = plan([CONFIG_MAP, DAEMON_SET], {ObjectKey.of(CONFIG_MAP): None, ObjectKey.of(DAEMON_SET): daemon_set})
    assert [item.action for item in result.items] == [CREATE, UNCHANGED]
    assert [str(item.key) for item in result.changes] == ["ConfigMap s/c"]


def test_a_hand_edit_of_a_config_value_an_added_key_or_a_container_field_is_an_update():
    edited = stored(CONFIG_MAP)
    edited["data"]["collector.yaml"] = "a: 2\n"
    edited["data"]["extra.yaml"] = "b: 1\n"
    privileged = stored(DAEMON_SET)
    privileged["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    result = plan([CONFIG_MAP, DAEMON_SET], {ObjectKey.of(CONFIG_MAP): edited, ObjectKey.of(DAEMON_SET): privileged})
    assert [item.action for item in result.items] == [UPDATE, UPDATE]
    assert [d.path for d in result.items[0].differences] == ["data.extra.yaml", "data.collector.yaml"]
    assert str(result.items[1].differences[0]) == \
        "spec.template.spec.containers.0.securityContext.privileged: true → false"


def test_an_added_container_or_volume_is_an_update_but_a_label_added_by_someone_else_is_not():
    sidecar = stored(DAEMON_SET)
    sidecar["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "evil"})
    labelled = stored(CONFIG_MAP)
    labelled["metadata"]["labels"]["team"] = "ops"
    result = plan([DAEMON_SET, CONFIG_MAP], {ObjectKey.of(DAEMON_SET): sidecar, ObjectKey.of(CONFIG_MAP): labelled})
    assert [item.action for item in result.items] == [UPDATE, UNCHANGED]


def test_a_secret_is_compared_by_its_metadata_and_its_values_never_enter_the_plan():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k", "namespace": "s",
                                                                 "annotations": {"user": "shipper.x.a"}}}
    observed = stored(secret, data={"password": "c2VjcmV0"})
    assert plan([secret], {ObjectKey.of(secret): observed}).empty
    observed["metadata"]["annotations"]["user"] = "shipper.x.b"
    item = plan([secret], {ObjectKey.of(secret): observed}).items[0]
    assert item.action == UPDATE and "c2VjcmV0" not in str([str(d) for d in item.differences])


def model_holds(desired, observed) -> bool:
    """An independent statement of the rule: a mapping holds another when each stated key holds; lists item by
    item with equal lengths (data maps, compared whole, are tested above)."""
    if isinstance(desired, dict):
        return isinstance(observed, dict) and all(k in observed and model_holds(v, observed[k])
                                                  for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(observed, list) and len(desired) == len(observed) and all(
            model_holds(a, b) for a, b in zip(desired, observed))
    return desired == observed


leaves = st.one_of(st.integers(-3, 3), st.booleans(), st.sampled_from(["a", "b", ""]))
trees = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.sampled_from("xyz"), inner, max_size=3)),
                     max_leaves=12)


@given(desired=st.dictionaries(st.sampled_from("xyz"), trees, max_size=3),
       observed=st.dictionaries(st.sampled_from("xyzw"), trees, max_size=4))
def test_differences_agree_with_an_independent_model(desired, observed):
    assert (differences(desired, observed) == []) == model_holds(desired, observed)


@given(desired=st.dictionaries(st.sampled_from("xyz"), trees, max_size=3))
def test_an_object_always_holds_itself(desired):
    assert differences(desired, copy.deepcopy(desired)) == []


# --- health ---------------------------------------------------------------------------------------------------

def daemon_set(template_hash: str, generation: int = 2, observed: int = 2, **status) -> dict:
    return {"metadata": {"generation": generation},
            "spec": {"template": {"metadata": {"annotations": {HASH_ANNOTATION: template_hash}}}},
            "status": {"observedGeneration": observed, **status}}


def pod(name: str, digest: str, ready: bool = True, state: dict | None = None) -> dict:
    return {"metadata": {"name": name, "annotations": {HASH_ANNOTATION: digest}}, "spec": {"nodeName": f"n-{name}"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}],
                       "containerStatuses": [{"name": "shipper", "state": state or {"running": {}}}]}}


FULL = {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 2, "updatedNumberScheduled": 2,
        "numberUnavailable": 0}


def test_health_states():
    revisions = {"old": 1, "new": 2}
    assert assess(None, [], live_hash="new", revisions=revisions).state == NOT_APPLIED
    assert assess(daemon_set("new", **FULL), [], live_hash=None, revisions=revisions).state == NOT_APPLIED
    healthy = assess(daemon_set("new", **FULL), [pod("a", "new"), pod("b", "new")], live_hash="new",
                     revisions=revisions)
    assert healthy.state == HEALTHY and (healthy.desired, healthy.ready, healthy.updated) == (2, 2, 2)
    assert [(p.name, p.node, p.revision, p.ready) for p in healthy.pods] == [("a", "n-a", 2, True),
                                                                             ("b", "n-b", 2, True)]
    rolling = assess(daemon_set("new", **{**FULL, "updatedNumberScheduled": 1}),
                     [pod("a", "new"), pod("b", "old")], live_hash="new", revisions=revisions)
    assert rolling.state == ROLLING_OUT and [p.revision for p in rolling.pods] == [2, 1]
    assert assess(daemon_set("new", generation=3, **FULL), [], live_hash="new", revisions=revisions).state \
        == ROLLING_OUT, "the controller has not seen the new template yet"
    assert assess(daemon_set("old", **FULL), [], live_hash="new", revisions=revisions).state == ROLLING_OUT
    degraded = assess(daemon_set("new", **{**FULL, "numberReady": 1, "numberUnavailable": 1}),
                      [pod("a", "new"), pod("b", "new", ready=False)], live_hash="new", revisions=revisions)
    assert degraded.state == DEGRADED and degraded.unavailable == 1
    # a node that stopped reporting: the controller no longer wants a pod there, and the pod is marked not ready
    lost_node = assess(daemon_set("new", **{**FULL, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
                                            "numberReady": 1, "updatedNumberScheduled": 1, "numberMisscheduled": 1}),
                       [pod("a", "new"), pod("b", "new", ready=False)], live_hash="new", revisions=revisions)
    assert lost_node.state == DEGRADED and lost_node.misscheduled == 1
    assert assess(daemon_set("new", **FULL), [pod("a", "new"), pod("b", "new", ready=False)], live_hash="new",
                  revisions=revisions).state == DEGRADED, "a pod not ready yet, before the counts follow"
    one_down = daemon_set("new", **{**FULL, "numberReady": 1, "numberUnavailable": 1})

    def waiting(reason: str) -> dict:
        return pod("b", "new", ready=False, state={"waiting": {"reason": reason}})

    starting = assess(one_down, [pod("a", "new"), waiting("ContainerCreating")], live_hash="new",
                      revisions=revisions)
    assert starting.state == ROLLING_OUT and [p.starting for p in starting.pods] == [False, True]
    failing = assess(one_down, [pod("a", "new"), waiting("ImagePullBackOff")], live_hash="new", revisions=revisions)
    assert failing.state == DEGRADED, "an image that cannot be pulled is not a rollout in progress"
    assert assess(one_down, [pod("a", "new"), pod("b", "new")], live_hash="new", revisions=revisions).state \
        == ROLLING_OUT, "the controller has not counted the pod that became ready yet"


def test_a_routing_change_is_described_within_a_reason_s_length_limit():
    assert describe_change({"b": "logs.b"}, {"a": "logs.a"}) == "+a → logs.a, −b"
    assert describe_change({"a": "logs.a"}, {"a": "logs.a"}) == "no routing change"
    many = describe_change({"old": "logs.old"}, {f"ns-{n:05d}": f"logs.ns-{n:05d}" for n in range(2000)})
    assert many.startswith("+ns-00000 → logs.ns-00000, ")
    assert many.endswith(" and 1981 more (2000 routed, 1 unrouted in all)")
    assert len(many) < 1000
