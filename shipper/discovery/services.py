"""Namespace discovery: Kubernetes namespaces become catalogue rows.

`plan_discovery` is pure (observed namespaces × catalogue → plan); `apply_discovery` is the only step that
writes. Labels or annotations `logwarden.io/owner-team` and `logwarden.io/sensitivity` carry the owner and
the sensitivity; `logwarden.io/ignore: "true"` and the excluded system namespaces are left out.

Hints never override decisions made in the portal, and never decide on their own: the owner team is only a
suggestion (while a namespace has no owner) that a platform admin confirms
(topics.catalogue.services.confirm_owner) — whoever can label a namespace must not pick who approves access to
its logs —, and the sensitivity is only ever raised (low < standard < high < restricted), never lowered. Labels
follow Kubernetes.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Team
from portal.core import audit
from topics.catalogue import services as catalogue
from topics.models import Lifecycle, Namespace, Sensitivity

OWNER_KEY = "logwarden.io/owner-team"
SENSITIVITY_KEY = "logwarden.io/sensitivity"
IGNORE_KEY = "logwarden.io/ignore"


@dataclass(frozen=True)
class ObservedNamespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)

    def hint(self, key: str) -> str | None:
        return self.annotations.get(key) or self.labels.get(key)


@dataclass(frozen=True)
class KnownNamespace:
    name: str
    lifecycle: str
    discovered: bool
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    owner_team: str | None = None
    sensitivity: str = Sensitivity.STANDARD
    suggested_owner_team: str | None = None


@dataclass
class DiscoveryPlan:
    # (ns, suggested owner team, sensitivity)
    create: list[tuple[ObservedNamespace, str | None, str]] = field(default_factory=list)
    update: dict[str, dict[str, object]] = field(default_factory=dict)  # name -> changed fields
    orphan: list[str] = field(default_factory=list)
    revive: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # every namespace observed and not left out

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.orphan or self.revive)


SENSITIVITY_ORDER = (Sensitivity.LOW, Sensitivity.STANDARD, Sensitivity.HIGH, Sensitivity.RESTRICTED)


def _rank(sensitivity: str) -> int:
    return SENSITIVITY_ORDER.index(sensitivity) if sensitivity in SENSITIVITY_ORDER else -1


def plan_discovery(observed: Iterable[ObservedNamespace], known: Iterable[KnownNamespace], *,
                   teams: set[str], excluded: set[str]) -> DiscoveryPlan:
    plan = DiscoveryPlan()
    by_name = {k.name: k for k in known}
    seen: set[str] = set()
    for ns in sorted(observed, key=lambda n: n.name):
        if ns.name in excluded or (ns.hint(IGNORE_KEY) or "").lower() == "true":
            continue
        seen.add(ns.name)
        team = ns.hint(OWNER_KEY)
        team = team if team in teams else None
        sensitivity = ns.hint(SENSITIVITY_KEY)
        sensitivity = sensitivity if sensitivity in Sensitivity.values else None
        current = by_name.get(ns.name)
        if current is None:
            plan.create.append((ns, team, sensitivity or Sensitivity.STANDARD))
            continue
        if current.lifecycle == Lifecycle.RETIRED:
            continue
        if current.lifecycle == Lifecycle.ORPHANED:
            plan.revive.append(ns.name)
        changes: dict[str, object] = {}
        if dict(ns.labels) != dict(current.labels):
            changes["labels"] = dict(ns.labels)
        if team is not None and current.owner_team is None and team != current.suggested_owner_team:
            changes["suggested_owner_team"] = team  # a suggestion only, never the portal's owner
        if sensitivity is not None and _rank(sensitivity) > _rank(current.sensitivity):  # only ever raised
            changes["sensitivity"] = sensitivity
        if changes:
            plan.update[ns.name] = changes
    plan.seen = sorted(seen)
    plan.orphan = sorted(k.name for k in by_name.values()
                         if k.discovered and k.lifecycle == Lifecycle.ACTIVE and k.name not in seen)
    return plan


def known_namespaces() -> list[KnownNamespace]:
    return [KnownNamespace(n.name, n.lifecycle, n.discovered, n.labels, n.owner_team.slug if n.owner_team else None,
                           n.sensitivity, n.suggested_owner_team.slug if n.suggested_owner_team else None)
            for n in Namespace.objects.select_related("owner_team", "suggested_owner_team")]


def discover(observed: Iterable[ObservedNamespace]) -> DiscoveryPlan:
    """Plans against the catalogue and applies; returns what was done."""
    plan = plan_discovery(observed, known_namespaces(), teams=set(Team.objects.values_list("slug", flat=True)),
                          excluded=set(settings.LOGWARDEN_DISCOVERY_EXCLUDE))
    apply_discovery(plan)
    return plan


def apply_discovery(plan: DiscoveryPlan) -> None:
    now = timezone.now()
    with transaction.atomic():
        if not plan.empty:
            _apply_changes(plan, now)
        Namespace.objects.filter(name__in=plan.seen).update(last_seen_at=now)


def _apply_changes(plan: DiscoveryPlan, now) -> None:
    teams = {t.slug: t for t in Team.objects.all()}
    for ns, team, sensitivity in plan.create:
        catalogue.register_namespace(audit.SYSTEM, name=ns.name, suggested_owner_team=teams.get(team),
                                     sensitivity=sensitivity, labels=dict(ns.labels), discovered=True)
    existing = Namespace.objects.in_bulk([*plan.update, *plan.revive, *plan.orphan], field_name="name")
    for name, changes in plan.update.items():
        namespace = existing[name]
        for key, value in changes.items():
            setattr(namespace, key, teams[value] if key == "suggested_owner_team" else value)
        namespace.save()
        audit.record(audit.SYSTEM, "namespace.update", namespace, source="discovery", changes=changes)
    for names, lifecycle, action in ((plan.revive, Lifecycle.ACTIVE, "namespace.revive"),
                                     (plan.orphan, Lifecycle.ORPHANED, "namespace.orphan")):
        for name in names:
            namespace = existing[name]
            namespace.lifecycle = lifecycle
            namespace.orphaned_at = now if lifecycle == Lifecycle.ORPHANED else None
            namespace.save(update_fields=["lifecycle", "orphaned_at"])
            audit.record(audit.SYSTEM, action, namespace, source="discovery")


def discover_from_kubernetes() -> dict:
    """Reads the namespaces of the configured cluster (LOGWARDEN_KUBECONFIG) and runs discovery on them."""
    if not settings.KUBECONFIG:
        return {"skipped": "no kubeconfig (LOGWARDEN_KUBECONFIG): namespaces are registered by hand"}
    from shipper.kube.client import KubeCluster

    with KubeCluster.from_kubeconfig(settings.KUBECONFIG) as cluster:
        observed = [ObservedNamespace(n.name, n.labels, n.annotations) for n in cluster.list_namespaces()]
    plan = discover(observed)
    return {"created": [ns.name for ns, _, _ in plan.create], "updated": sorted(plan.update),
            "orphaned": plan.orphan, "revived": plan.revive, "seen": len(plan.seen)}
