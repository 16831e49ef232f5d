"""Property tests of the pure provisioning planner."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from topics.kafka.types import AclBinding, Operation, PatternType, ResourceType
from topics.services.desired import group_binding, read_bindings
from topics.services.planner import ActualState, DesiredState, is_managed_principal, plan, simulate

TOPICS = [f"logs.ns{i}" for i in range(6)]
MANAGED = [f"u.person{i}.a" for i in range(4)] + ["sa.etl.b"]
FOREIGN = ["alien", "legacy-app"]

managed_bindings = st.builds(lambda user, topic: read_bindings(user, topic)[0], st.sampled_from(MANAGED),
                             st.sampled_from(TOPICS)) | st.builds(
    lambda user: group_binding(user, user.rsplit(".", 1)[0] + "."), st.sampled_from(MANAGED))
foreign_bindings = st.builds(
    lambda user, topic, pattern, op: AclBinding(f"User:{user}", ResourceType.TOPIC, topic, pattern, op),
    st.sampled_from(FOREIGN), st.sampled_from(TOPICS + ["other.topic", "logs."]),
    st.sampled_from([PatternType.LITERAL, PatternType.PREFIXED]), st.sampled_from([Operation.READ, Operation.WRITE]))


@st.composite
def states(draw):
    desired = DesiredState(acls=frozenset(draw(st.sets(managed_bindings, max_size=25))),
                           users=frozenset(draw(st.sets(st.sampled_from(MANAGED), max_size=3))),
                           new_users=frozenset(draw(st.sets(st.sampled_from(["u.new.a", "sa.new.a"]), max_size=2))),
                           managed_topics=frozenset(TOPICS))
    actual = ActualState(acls=frozenset(draw(st.sets(managed_bindings | foreign_bindings, max_size=30))),
                         users=frozenset(draw(st.sets(st.sampled_from(MANAGED + FOREIGN), max_size=6))))
    return desired, actual


@settings(max_examples=300)
@given(states(), st.booleans())
def test_applying_the_plan_yields_the_desired_managed_state(pair, enforce):
    desired, actual = pair
    after = simulate(actual, plan(desired, actual, enforce=enforce))

    assert {b for b in after.acls if is_managed_principal(b.principal)} == desired.acls
    assert {u for u in after.users if u.startswith(("u.", "sa."))} >= desired.new_users
    assert {u for u in after.users if u.startswith(("u.", "sa."))} - desired.new_users <= desired.users
    foreign_left = {b for b in after.acls if not is_managed_principal(b.principal)}
    if enforce:  # no foreign binding reaches a managed topic any more
        assert not plan(desired, after, enforce=True).drift_acls
    else:  # nothing foreign was touched
        assert foreign_left == {b for b in actual.acls if not is_managed_principal(b.principal)}
    assert set(u for u in actual.users if u in FOREIGN) <= after.users  # foreign users are never deleted


@settings(max_examples=200)
@given(states())
def test_the_plan_of_desired_against_itself_is_empty(pair):
    desired, _ = pair
    as_actual = ActualState(acls=desired.acls, users=desired.users)
    result = plan(DesiredState(desired.acls, desired.users, frozenset(), desired.managed_topics), as_actual,
                  enforce=True)
    assert result.empty and not result.drift_acls and not result.missing_users


def test_foreign_prefix_binding_covering_a_managed_topic_is_drift():
    sneaky = AclBinding("User:alien", ResourceType.TOPIC, "logs.", PatternType.PREFIXED, Operation.READ)
    unrelated = AclBinding("User:alien", ResourceType.TOPIC, "billing.", PatternType.PREFIXED, Operation.READ)
    desired = DesiredState(frozenset(), frozenset(), frozenset(), frozenset({"logs.payments"}))

    kept = plan(desired, ActualState(frozenset({sneaky, unrelated}), frozenset()), enforce=False)
    removed = plan(desired, ActualState(frozenset({sneaky, unrelated}), frozenset()), enforce=True)

    assert kept.drift_acls == (sneaky,) and kept.delete_acls == ()
    assert removed.delete_acls == (sneaky,)


def test_active_credential_missing_on_the_broker_is_reported_not_recreated():
    desired = DesiredState(frozenset(), frozenset({"u.alice.a"}), frozenset(), frozenset())
    result = plan(desired, ActualState(frozenset(), frozenset()), enforce=True)
    assert result.missing_users == ("u.alice.a",) and result.create_users == ()
