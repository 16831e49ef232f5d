"""Property tests of the pure provisioning planner."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType
from topics.provisioning.desired import group_binding, read_bindings
from topics.provisioning.planner import (ActualState, DesiredState, is_foreign_read, is_managed_principal,
                                         is_managed_user, plan, reaches_managed_resource, simulate)

TOPICS = frozenset(f"logs.ns{i}" for i in range(6))
MANAGED = [f"u.person{i}.a" for i in range(4)] + ["sa.etl.b"]
FOREIGN = ["alien", "legacy-app", "shipper.fluentd", "ANONYMOUS"]

managed_bindings = st.builds(lambda user, topic: read_bindings(user, topic)[0], st.sampled_from(MANAGED),
                             st.sampled_from(sorted(TOPICS))) | st.builds(
    lambda user: group_binding(user, user.rsplit(".", 1)[0] + "."), st.sampled_from(MANAGED))
any_binding = st.builds(
    lambda user, kind, name, pattern, op, permission: AclBinding(f"User:{user}", kind, name, pattern, op, permission),
    st.sampled_from(MANAGED + FOREIGN),
    st.sampled_from([ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER]),
    st.sampled_from(sorted(TOPICS) + ["other.topic", "logs.", "*", "u.", "u", "s", "sa.etl.", "kafka-cluster"]),
    st.sampled_from([PatternType.LITERAL, PatternType.PREFIXED]),
    st.sampled_from([Operation.READ, Operation.WRITE, Operation.ALL, Operation.DESCRIBE, Operation.IDEMPOTENT_WRITE]),
    st.sampled_from([Permission.ALLOW, Permission.DENY]))


@st.composite
def states(draw):
    desired = DesiredState(acls=frozenset(draw(st.sets(managed_bindings, max_size=25))),
                           users=frozenset(draw(st.sets(st.sampled_from(MANAGED), max_size=3))),
                           new_users=frozenset(draw(st.sets(st.sampled_from(["u.new.a", "sa.new.a"]), max_size=2))),
                           managed_topics=TOPICS)
    actual = ActualState(acls=frozenset(draw(st.sets(managed_bindings | any_binding, max_size=30))),
                         users=frozenset(draw(st.sets(st.sampled_from(MANAGED + FOREIGN), max_size=6))))
    return desired, actual


@settings(max_examples=400)
@given(states(), st.booleans())
def test_applying_the_plan_yields_the_desired_state_of_what_logwarden_owns(pair, enforce):
    desired, actual = pair
    result = plan(desired, actual, enforce=enforce)
    after = simulate(actual, result)

    owned = {b for b in after.acls if is_managed_principal(b.principal) and reaches_managed_resource(b, TOPICS)}
    assert owned == desired.acls
    assert desired.new_users <= after.users
    assert {u for u in after.users if is_managed_user(u)} - desired.new_users <= desired.users
    assert not plan(desired, after, enforce=enforce).create_acls


@settings(max_examples=400)
@given(states(), st.booleans())
def test_nothing_logwarden_does_not_own_is_ever_deleted(pair, enforce):
    desired, actual = pair
    result = plan(desired, actual, enforce=enforce)

    assert all(is_managed_user(u) for u in result.delete_users)
    for binding in result.delete_acls:
        ours = is_managed_principal(binding.principal) and reaches_managed_resource(binding, TOPICS)
        assert ours or (enforce and is_foreign_read(binding, TOPICS)), binding
        assert binding.permission == Permission.ALLOW or ours  # a foreign DENY only narrows access: kept
    if not enforce:
        assert all(is_managed_principal(b.principal) for b in result.delete_acls)


@settings(max_examples=200)
@given(states())
def test_the_plan_of_desired_against_itself_is_empty(pair):
    desired, _ = pair
    as_actual = ActualState(acls=desired.acls, users=desired.users)
    result = plan(DesiredState(desired.acls, desired.users, frozenset(), desired.managed_topics), as_actual,
                  enforce=True)
    assert result.empty and not result.drift_acls and not result.missing_users


def test_foreign_read_through_a_prefix_is_drift_but_writes_denies_and_cluster_bindings_are_not():
    topics = frozenset({"logs.payments"})
    sneaky = AclBinding("User:alien", ResourceType.TOPIC, "logs.", PatternType.PREFIXED, Operation.READ)
    shipper = AclBinding("User:shipper.fluentd", ResourceType.TOPIC, "logs.", PatternType.PREFIXED, Operation.WRITE)
    deny = AclBinding("User:alien", ResourceType.TOPIC, "logs.payments", PatternType.LITERAL, Operation.READ,
                      Permission.DENY)
    cluster = AclBinding("User:alien", ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL,
                         Operation.IDEMPOTENT_WRITE)
    other_topic = AclBinding("User:u.alice.a", ResourceType.TOPIC, "billing", PatternType.LITERAL, Operation.READ)
    actual = ActualState(frozenset({sneaky, shipper, deny, cluster, other_topic}), frozenset({"shipper.fluentd"}))
    desired = DesiredState(frozenset(), frozenset(), frozenset(), topics)

    kept = plan(desired, actual, enforce=False)
    enforced = plan(desired, actual, enforce=True)

    assert kept.drift_acls == (sneaky,) and kept.delete_acls == ()
    assert enforced.delete_acls == (sneaky,) and enforced.delete_users == ()
    assert enforced.unmanaged_acls == (other_topic,)


def test_active_credential_missing_on_the_broker_is_reported_not_recreated():
    desired = DesiredState(frozenset(), frozenset({"u.alice.a"}), frozenset(), frozenset())
    result = plan(desired, ActualState(frozenset(), frozenset()), enforce=True)
    assert result.missing_users == ("u.alice.a",) and result.create_users == ()
