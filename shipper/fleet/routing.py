"""A fleet's routing, derived from the catalogue: each namespace with an active topic on the fleet's Kafka
cluster writes to that topic; every other namespace goes to the quarantine topic or is dropped (a fleet
setting). A retired namespace, or a topic not (yet) on the broker, leaves the routing."""
from __future__ import annotations

from shipper.fleet.models import Fleet
from shipper.fleet.spec import Route
from topics.models import Lifecycle, Topic, TopicState


def routes_for(fleet: Fleet) -> tuple[Route, ...]:
    topics = (Topic.objects.filter(cluster_id=fleet.kafka_cluster_id, state=TopicState.READY)
              .exclude(namespace__lifecycle=Lifecycle.RETIRED).exclude(namespace__quarantine=True)
              .values_list("namespace__name", "name"))
    return tuple(sorted(Route(namespace, topic) for namespace, topic in topics))


def describe_change(before: dict[str, str], after: dict[str, str], *, most: int = 20) -> str:
    """What changed between two routings, for a revision's reason: "+a → logs.a, −b"; past `most` changes, how
    many more (a revision's reason has a length limit, and a catalogue of thousands may change at once)."""
    added = [f"+{ns} → {after[ns]}" for ns in sorted(after) if before.get(ns) != after[ns]]
    removed = [f"−{ns}" for ns in sorted(before) if ns not in after]
    changes = added + removed
    if not changes:
        return "no routing change"
    shown = ", ".join(changes[:most])
    if len(changes) <= most:
        return shown
    return f"{shown} and {len(changes) - most} more ({len(added)} routed, {len(removed)} unrouted in all)"
