"""The pure discovery planner: observed Kubernetes namespaces × catalogue → plan."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipper.discovery.services import OWNER_KEY, SENSITIVITY_KEY, KnownNamespace, ObservedNamespace, plan_discovery

TEAMS = {"payments", "checkout"}
EXCLUDED = {"kube-system"}


def plan(observed, known=()):
    return plan_discovery(observed, known, teams=TEAMS, excluded=EXCLUDED)


def test_new_namespaces_are_created_with_a_suggested_owner_and_sensitivity_from_annotations_or_labels():
    result = plan([
        ObservedNamespace("payments", annotations={OWNER_KEY: "payments", SENSITIVITY_KEY: "high"}),
        ObservedNamespace("checkout", labels={OWNER_KEY: "checkout"}),
        ObservedNamespace("scratch", labels={OWNER_KEY: "no-such-team", SENSITIVITY_KEY: "bogus"}),
    ])

    assert [(ns.name, team, sensitivity) for ns, team, sensitivity in result.create] == [
        ("checkout", "checkout", "standard"), ("payments", "payments", "high"), ("scratch", None, "standard")]
    assert not result.update and not result.orphan


def test_excluded_and_ignored_namespaces_are_left_out():
    result = plan([ObservedNamespace("kube-system"), ObservedNamespace("tmp", labels={"logwarden.io/ignore": "true"})])
    assert result.empty and result.seen == []


def test_vanished_discovered_namespace_is_orphaned_but_a_manual_one_is_not():
    known = [KnownNamespace("gone", "active", discovered=True), KnownNamespace("manual", "active", discovered=False)]
    assert plan([], known).orphan == ["gone"]


def test_orphaned_namespace_that_returns_is_revived_and_retired_ones_stay_retired():
    known = [KnownNamespace("back", "orphaned", True), KnownNamespace("old", "retired", True)]
    result = plan([ObservedNamespace("back"), ObservedNamespace("old")], known)
    assert result.revive == ["back"] and not result.update and not result.create


def test_changed_labels_a_suggested_owner_and_a_higher_sensitivity_are_updated():
    """The label's owner team is only a suggestion: the plan never sets the owner itself (an admin confirms)."""
    known = [KnownNamespace("payments", "active", True, labels={"a": "1"}, owner_team=None, sensitivity="standard")]
    observed = [ObservedNamespace("payments", labels={"a": "2"},
                                  annotations={OWNER_KEY: "payments", SENSITIVITY_KEY: "restricted"})]

    assert plan(observed, known).update == {
        "payments": {"labels": {"a": "2"}, "suggested_owner_team": "payments", "sensitivity": "restricted"}}


def test_a_suggestion_already_made_is_not_made_again_and_a_new_label_replaces_it():
    known = [KnownNamespace("payments", "active", True, labels={OWNER_KEY: "payments"},
                            suggested_owner_team="payments")]
    assert plan([ObservedNamespace("payments", labels={OWNER_KEY: "payments"})], known).empty
    assert plan([ObservedNamespace("payments", labels={OWNER_KEY: "checkout"})], known).update == {
        "payments": {"labels": {OWNER_KEY: "checkout"}, "suggested_owner_team": "checkout"}}


def test_hints_never_replace_the_owner_the_portal_set():
    known = [KnownNamespace("payments", "active", True, owner_team="payments")]
    observed = [ObservedNamespace("payments", annotations={OWNER_KEY: "checkout"})]

    assert plan(observed, known).empty


@pytest.mark.parametrize(("current", "hinted", "expected"), [
    ("restricted", "low", None), ("high", "standard", None), ("standard", "low", None), ("high", "high", None),
    ("low", "standard", "standard"), ("standard", "high", "high"), ("high", "restricted", "restricted"),
])
def test_hints_only_ever_raise_the_sensitivity(current, hinted, expected):
    known = [KnownNamespace("payments", "active", True, labels={"a": "1"}, sensitivity=current)]
    observed = [ObservedNamespace("payments", labels={"a": "2", SENSITIVITY_KEY: hinted})]

    changes = plan(observed, known).update["payments"]  # the labels still follow Kubernetes

    assert changes.get("sensitivity") == expected and changes["labels"]["a"] == "2"


names = st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True)


@given(st.sets(names, max_size=15))
def test_planning_the_catalogue_against_itself_is_empty(observed_names):
    observed = [ObservedNamespace(n, labels={"team": n}) for n in observed_names if n not in EXCLUDED]
    known = [KnownNamespace(ns.name, "active", True, labels=dict(ns.labels)) for ns in observed]
    result = plan(observed, known)
    assert result.empty
    assert result.seen == sorted(ns.name for ns in observed)


@given(st.sets(names, max_size=15), st.sets(names, max_size=15))
def test_every_observed_name_is_created_or_known_and_every_vanished_one_orphaned(observed_names, known_names):
    result = plan([ObservedNamespace(n) for n in observed_names],
                  [KnownNamespace(n, "active", True) for n in known_names])
    observed_names -= EXCLUDED
    assert {ns.name for ns, _, _ in result.create} == observed_names - known_names
    assert set(result.orphan) == known_names - observed_names
