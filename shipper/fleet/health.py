"""Fleet health from the DaemonSet's status and its pods: a pure reading of what the cluster reports (the
DaemonSet controller's counts, the pods the kubelets and the node lifecycle controller report on).

healthy: every desired pod is up to date and ready; rolling out: the controller has not caught up with the
latest template yet (a new generation, pods still on an older revision, a new pod still starting: none of its
containers has run yet, or counts that still say a pod is down when every pod says it is ready); degraded: the
rollout is done but pods are unavailable or not ready (a container that fails to start, an image that cannot
be pulled or a crash loop, counts as not ready, not as starting), or a pod runs on a node that should no longer
run one (misscheduled: the node lifecycle controller taints a node that stops reporting, and the DaemonSet
controller then no longer counts that node as desired, so its not-ready pod is what shows the lost node); not
applied: no DaemonSet (or nothing applied from the portal yet).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipper.fleet.manifests import HASH_ANNOTATION

HEALTHY, ROLLING_OUT, DEGRADED, NOT_APPLIED = "healthy", "rolling out", "degraded", "not applied"


@dataclass(frozen=True)
class PodHealth:
    name: str
    node: str
    phase: str
    ready: bool
    revision_hash: str
    revision: int | None  # the fleet revision whose content the pod runs, if known
    starting: bool = False  # not ready because no container has run yet (created, image being pulled)


@dataclass(frozen=True)
class FleetHealth:
    state: str
    desired: int = 0
    current: int = 0
    ready: int = 0
    updated: int = 0
    unavailable: int = 0
    misscheduled: int = 0
    live_hash: str = ""
    pods: list[PodHealth] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "desired": self.desired, "current": self.current, "ready": self.ready,
                "updated": self.updated, "unavailable": self.unavailable, "misscheduled": self.misscheduled,
                "live_hash": self.live_hash,
                "pods": [pod.__dict__ for pod in self.pods]}


# why a container waits that says it is starting, not failing
STARTING_REASONS = {"", "ContainerCreating", "PodInitializing"}


def _starting(status: dict) -> bool:
    """No container has run yet, and none waits for a reason that is a failure."""
    containers = status.get("containerStatuses") or []
    return all("running" not in (c.get("state") or {}) and "terminated" not in (c.get("state") or {})
               and (c.get("state") or {}).get("waiting", {}).get("reason", "") in STARTING_REASONS
               and not c.get("restartCount") for c in containers)


def _pod(pod: dict, revisions: dict[str, int]) -> PodHealth:
    metadata, status = pod.get("metadata", {}), pod.get("status", {})
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    digest = (metadata.get("annotations") or {}).get(HASH_ANNOTATION, "")
    ready = conditions.get("Ready") == "True"
    return PodHealth(name=metadata.get("name", ""), node=pod.get("spec", {}).get("nodeName", ""),
                     phase=status.get("phase", ""), ready=ready, revision_hash=digest,
                     revision=revisions.get(digest), starting=not ready and _starting(status))


def assess(daemon_set: dict | None, pods: list[dict], *, live_hash: str | None,
           revisions: dict[str, int]) -> FleetHealth:
    """`revisions` maps content hashes to the fleet's revision numbers (the latest with that content)."""
    if daemon_set is None or not live_hash:
        return FleetHealth(NOT_APPLIED, live_hash=live_hash or "",
                           pods=sorted((_pod(p, revisions) for p in pods), key=lambda p: p.name))
    status = daemon_set.get("status") or {}
    desired = status.get("desiredNumberScheduled", 0)
    counts = {"desired": desired, "current": status.get("currentNumberScheduled", 0),
              "ready": status.get("numberReady", 0), "updated": status.get("updatedNumberScheduled", 0),
              "unavailable": status.get("numberUnavailable", 0),
              "misscheduled": status.get("numberMisscheduled", 0)}
    template_hash = (daemon_set["spec"]["template"]["metadata"].get("annotations") or {}).get(HASH_ANNOTATION)
    seen = status.get("observedGeneration", 0) >= daemon_set["metadata"].get("generation", 0)
    pod_health = sorted((_pod(p, revisions) for p in pods), key=lambda p: p.name)
    behind = any(p.revision_hash != live_hash or p.starting for p in pod_health)
    # the controller counts a moment after the pods change: its counts say a pod is down while every pod says ready
    counting = ((counts["unavailable"] > 0 or counts["ready"] < desired) and len(pod_health) >= desired
                and all(p.ready for p in pod_health))
    if template_hash != live_hash or not seen or counts["updated"] < desired or behind or counting:
        state = ROLLING_OUT
    elif (counts["unavailable"] > 0 or counts["ready"] < desired or counts["misscheduled"] > 0
          or not all(p.ready for p in pod_health)):
        state = DEGRADED
    else:
        state = HEALTHY
    return FleetHealth(state, live_hash=live_hash, pods=pod_health, **counts)
