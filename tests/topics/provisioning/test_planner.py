"""Property tests of the pure provisioning planner, against a model of its rules written here from the rules
themselves (what Logwarden recorded creating may go; another principal's read access is drift; nothing else is
touched), not from the planner's own helpers."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType
from topics.provisioning.desired import group_binding, read_bindings
from topics.provisioning.planner import ActualState, DesiredState, Owned, plan, simulate

TOPICS = frozenset(f"logs.ns{i}" for i in range(6))
MANAGED = [f"u.person{i}.a" for i in range(4)] + ["sa.etl.b"]
FOREIGN = ["alien", "legacy-app", "shipper.fluentd", "ANONYMOUS", "u.other-installation.a"]
# every consumer group a Logwarden principal reads as starts with one of these (people, service accounts, and
# Logwarden's own components: system principals)
GROUP_PREFIXES = ("u.", "sa.", "portal.", "shipper.")

managed_bindings = st.builds(lambda user, topic: read_bindings(user, topic)[0], st.sampled_from(MANAGED),
                             st.sampled_from(sorted(TOPICS))) | st.builds(
    lambda user: group_binding(user, user.rsplit(".", 1)[0] + "."), st.sampled_from(MANAGED))
any_binding = st.builds(
    lambda user, kind, name, pattern, op, permission: AclBinding(f"User:{user}", kind, name, pattern, op, permission),
    st.sampled_from(MANAGED + FOREIGN),
    st.sampled_from([ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER]),
    st.sampled_from(sorted(TOPICS) + ["other.topic", "logs.", "logs.ns1x", "*", "u.", "u", "s", "sa.etl.", "x",
                                      "p", "portal.reader.", "shipper.", "kafka-cluster"]),
    st.sampled_from([PatternType.LITERAL, PatternType.PREFIXED]),
    st.sampled_from([Operation.READ, Operation.WRITE, Operation.ALL, Operation.DESCRIBE, Operation.IDEMPOTENT_WRITE]),
    st.sampled_from([Permission.ALLOW, Permission.DENY]))
bindings = managed_bindings | any_binding


def lets_read_managed(b: AclBinding) -> bool:
    """The model of read access: ALLOW of READ or ALL on a catalogue topic or a principal's consumer group."""
    if b.permission != Permission.ALLOW or b.operation not in (Operation.READ, Operation.ALL):
        return False
    literal = b.pattern_type == PatternType.LITERAL
    if b.resource_type == ResourceType.TOPIC:
        if literal:  # "*" is Kafka's wildcard only in a literal binding
            return b.resource_name == "*" or b.resource_name in TOPICS
        return any(t[:len(b.resource_name)] == b.resource_name for t in TOPICS)
    if b.resource_type == ResourceType.GROUP:
        if literal:
            return b.resource_name == "*" or any(b.resource_name[:len(p)] == p for p in GROUP_PREFIXES)
        # some group starting with both the binding's prefix and a principal prefix exists
        return any(b.resource_name[:len(p)] == p or p[:len(b.resource_name)] == b.resource_name
                   for p in GROUP_PREFIXES)
    return False


def model(desired, actual, owned, enforce, allowlist):
    """What the rules say: (acls to delete, drift, users to delete)."""
    wanted_users = desired.users | desired.new_users
    delete, drift = set(), set()
    for b in actual.acls:
        if b in desired.acls:
            continue
        if b in owned.acls:
            delete.add(b)
        elif lets_read_managed(b):
            drift.add(b)
            if enforce and b.principal not in allowlist:
                delete.add(b)
    users = {u for u in actual.users if u in owned.users and u not in wanted_users}
    return delete, drift, users


@st.composite
def states(draw):
    desired = DesiredState(acls=frozenset(draw(st.sets(managed_bindings, max_size=25))),
                           users=frozenset(draw(st.sets(st.sampled_from(MANAGED), max_size=3))),
                           new_users=frozenset(draw(st.sets(st.sampled_from(["u.new.a", "sa.new.a"]), max_size=2))),
                           managed_topics=TOPICS)
    actual = ActualState(acls=frozenset(draw(st.sets(bindings, max_size=30))),
                         users=frozenset(draw(st.sets(st.sampled_from(MANAGED + FOREIGN), max_size=6))))
    owned = Owned(acls=frozenset(draw(st.sets(st.sampled_from(sorted(actual.acls)), max_size=10))
                                 if actual.acls else set()) | frozenset(draw(st.sets(bindings, max_size=5))),
                  users=frozenset(draw(st.sets(st.sampled_from(MANAGED + FOREIGN), max_size=6))))
    allowlist = frozenset(draw(st.sets(st.sampled_from([f"User:{u}" for u in FOREIGN + MANAGED]), max_size=3)))
    return desired, actual, owned, allowlist


@settings(max_examples=500)
@given(states(), st.booleans())
def test_the_plan_deletes_exactly_what_the_rules_say_and_creates_what_is_missing(state, enforce):
    desired, actual, owned, allowlist = state
    result = plan(desired, actual, owned, enforce=enforce, allowlist=allowlist)
    delete, drift, delete_users = model(desired, actual, owned, enforce, allowlist)

    assert set(result.delete_acls) == delete
    assert set(result.drift_acls) == drift
    assert set(result.delete_users) == delete_users
    assert set(result.create_acls) == desired.acls - actual.acls
    assert set(result.create_users) == desired.new_users
    assert set(result.missing_users) == desired.users - actual.users


@settings(max_examples=300)
@given(states(), st.booleans())
def test_nothing_unrecorded_is_deleted_but_read_access_where_enforced_and_never_a_deny(state, enforce):
    desired, actual, owned, allowlist = state
    result = plan(desired, actual, owned, enforce=enforce, allowlist=allowlist)

    for b in set(result.delete_acls) - owned.acls:
        assert enforce and b.permission == Permission.ALLOW and b.principal not in allowlist, b
        assert b.operation in (Operation.READ, Operation.ALL), b
    assert set(result.delete_users) <= owned.users


@settings(max_examples=300)
@given(states(), st.booleans())
def test_applying_the_plan_converges_and_a_second_plan_writes_nothing(state, enforce):
    desired, actual, owned, allowlist = state
    result = plan(desired, actual, owned, enforce=enforce, allowlist=allowlist)
    after = simulate(actual, result)
    # what the reconciler records: claimed and created objects in, deleted and vanished ones out
    owned_after = Owned((owned.acls - set(result.forget_acls) - set(result.delete_acls))
                        | set(result.claim_acls) | set(result.create_acls),
                        (owned.users - set(result.forget_users) - set(result.delete_users))
                        | set(result.claim_users) | set(result.create_users))

    assert desired.acls <= after.acls and desired.new_users <= after.users
    assert not (after.acls - desired.acls) & owned_after.acls
    again = plan(DesiredState(desired.acls, desired.users | desired.new_users, frozenset(), TOPICS), after,
                 owned_after, enforce=enforce, allowlist=allowlist)
    assert again.empty and not again.claim_acls and not again.forget_acls


def test_foreign_read_through_a_prefix_is_drift_but_writes_denies_and_cluster_bindings_are_not():
    topics = frozenset({"logs.payments"})
    sneaky = AclBinding("User:alien", ResourceType.TOPIC, "logs.", PatternType.PREFIXED, Operation.READ)
    monitoring = AclBinding("User:monitoring", ResourceType.TOPIC, "logs.", PatternType.PREFIXED, Operation.ALL)
    shipper = AclBinding("User:shipper.fluentd", ResourceType.TOPIC, "logs.", PatternType.PREFIXED, Operation.WRITE)
    deny = AclBinding("User:u.alice.a", ResourceType.TOPIC, "logs.payments", PatternType.LITERAL, Operation.READ,
                      Permission.DENY)
    cluster = AclBinding("User:alien", ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL,
                         Operation.IDEMPOTENT_WRITE)
    other_topic = AclBinding("User:u.alice.a", ResourceType.TOPIC, "billing", PatternType.LITERAL, Operation.READ)
    actual = ActualState(frozenset({sneaky, monitoring, shipper, deny, cluster, other_topic}),
                         frozenset({"shipper.fluentd", "u.other-installation.a"}))
    desired = DesiredState(frozenset(), frozenset(), frozenset(), topics)

    kept = plan(desired, actual, Owned(), enforce=False)
    enforced = plan(desired, actual, Owned(), enforce=True, allowlist=frozenset({"User:monitoring"}))

    assert kept.drift_acls == (sneaky, monitoring) and kept.delete_acls == ()
    assert enforced.delete_acls == (sneaky,) and enforced.delete_users == ()
    assert enforced.unmanaged_acls == (other_topic, deny)
    assert enforced.unknown_users == ("shipper.fluentd", "u.other-installation.a")


def test_active_credential_missing_on_the_broker_is_reported_not_recreated():
    desired = DesiredState(frozenset(), frozenset({"u.alice.a"}), frozenset(), frozenset())
    result = plan(desired, ActualState(frozenset(), frozenset()), Owned(users=frozenset({"u.alice.a"})),
                  enforce=True)
    assert result.missing_users == ("u.alice.a",) and result.create_users == ()
    assert result.forget_users == ("u.alice.a",)
