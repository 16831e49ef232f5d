"""Changes to shipper fleets: settings, revisions, apply (and its dry run), rollback, the drift check, health.

Every change to a fleet's settings, and every catalogue change that changes its routing, makes a revision when
what it renders differs from the latest one. Applying goes through one path — observe the fleet's objects,
plan with the pure planner, server-side apply what differs with Logwarden's field manager — so a second apply
of an unchanged revision writes nothing. Every settings change, apply, rollback and drift found is audited.
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from portal.core import audit, audited
from shipper.canary import services as canary
from shipper.fleet import health as fleet_health
from shipper.fleet import credentials
from shipper.fleet.manifests import (CREDENTIAL_ANNOTATION, FLEET_LABEL, PASSWORD_ANNOTATION, SECRET_LABEL, manifests,
                                     object_name, rebind_credential, selector)
from shipper.fleet.models import Fleet, FleetRevision
from shipper.fleet.planner import CREATE, ObjectKey, Plan, PlanItem, plan
from shipper.fleet.renderers import render
from shipper.fleet.routing import describe_change, routes_for
from shipper.fleet.spec import FleetSpec, KafkaTarget, Route
from shipper.kube.client import KubeCluster, KubeError

SETTINGS_FIELDS = ("flavour", "image", "unrouted", "quarantine_topic", "buffer_mib", "batch_size",
                   "batch_timeout_ms", "docker_runtime", "log_access", "log_group_id", "tolerations",
                   "node_selector", "priority_class", "cpu_request", "cpu_limit", "memory_request", "memory_limit",
                   "checkpoint_path", "canary_interval_seconds", "enforce")
CREATE_FIELDS = ("name", "kafka_cluster", "kube_namespace", *SETTINGS_FIELDS)


class FleetNotConfigured(ValidationError):
    """No cluster to apply to (LOGWARDEN_KUBECONFIG), or nothing to apply."""


@dataclass(frozen=True)
class Desired:
    config_name: str
    config: str
    manifests: list[dict]
    routes: dict[str, str]
    content_hash: str


def spec_of(fleet: Fleet, routes: tuple[Route, ...], **overrides) -> FleetSpec:
    cluster = fleet.kafka_cluster
    return FleetSpec(
        name=fleet.name, flavour=fleet.flavour, kube_namespace=fleet.kube_namespace, image=fleet.image_or_default,
        kafka=KafkaTarget(cluster.bootstrap_for_clients, cluster.security_protocol, cluster.sasl_mechanism),
        routes=routes, unrouted=fleet.unrouted, quarantine_topic=fleet.quarantine_topic,
        buffer_mib=fleet.buffer_mib, batch_size=fleet.batch_size, batch_timeout_ms=fleet.batch_timeout_ms,
        docker_runtime=fleet.docker_runtime, log_access=fleet.log_access, log_group_id=fleet.log_group_id,
        tolerations=tuple(fleet.tolerations), node_selector=tuple(sorted(fleet.node_selector.items())),
        priority_class=fleet.priority_class, cpu_request=fleet.cpu_request, cpu_limit=fleet.cpu_limit,
        memory_request=fleet.memory_request, memory_limit=fleet.memory_limit,
        checkpoint_path=fleet.checkpoint_path, canary_interval_seconds=fleet.canary_interval_seconds, **overrides)


def desired(fleet: Fleet) -> Desired:
    """What the fleet's settings and the catalogue's routing render to now."""
    routes = routes_for(fleet)
    spec = spec_of(fleet, routes)
    rendered = render(spec)
    credential = credentials.current_credential(fleet)
    objects, digest = manifests(spec, rendered, kafka_username=credential.username,
                                password_kept=credential.password is not None)
    return Desired(rendered.file_name, rendered.text, objects, {r.namespace: r.topic for r in routes}, digest)


def local_config(fleet: Fleet, *, log_root: str, checkpoint_path: str, kube: bool = True) -> str:
    """The fleet's config for its shipper run as a process on this machine instead of a pod (the demo, the
    end-to-end tests): the node's logs under `log_root`, checkpoints in `checkpoint_path`, the API server reached
    through $KUBECONFIG (or, without `kube`, not at all)."""
    spec = dataclasses.replace(spec_of(fleet, routes_for(fleet)), log_root=log_root, checkpoint_path=checkpoint_path,
                               kube_auth="kubeConfig" if kube else "")
    return render(spec).text


def latest_revision(fleet: Fleet) -> FleetRevision | None:
    return fleet.revisions.order_by("-number").first()


def _record_revision(actor, fleet: Fleet, content: Desired, *, reason: str,
                     rollback_of: FleetRevision | None = None) -> FleetRevision:
    number = (fleet.revisions.aggregate(top=Max("number"))["top"] or 0) + 1
    actor = audit.Actor.of(actor)
    revision = FleetRevision(fleet=fleet, number=number, content_hash=content.content_hash,
                             config_name=content.config_name, config=content.config, manifests=content.manifests,
                             routes=content.routes, author=actor.user, author_label=actor.label, reason=reason,
                             rollback_of=rollback_of)
    revision.full_clean(exclude=["fleet"])
    revision.save()
    audit.record(actor, "fleet.revision", fleet, revision=number, content_hash=content.content_hash,
                 reason=reason, rollback_of=rollback_of.number if rollback_of else None)
    return revision


def _revise(actor, fleet: Fleet, *, reason: str) -> FleetRevision | None:
    """A new revision when what the fleet renders differs from its latest one."""
    content = desired(fleet)
    latest = latest_revision(fleet)
    if latest is not None and latest.content_hash == content.content_hash:
        return None
    return _record_revision(actor, fleet, content, reason=reason)


def create_fleet(actor, *, reason: str = "created", **fields) -> Fleet:
    unknown = set(fields) - set(CREATE_FIELDS)
    if unknown:
        raise ValueError(f"not settable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        fleet = Fleet()
        audited.save(actor, fleet, **fields)
        credentials.provision(fleet)
        canary.provision(fleet)
        _revise(actor, fleet, reason=reason)
    return fleet


def update_fleet(actor, fleet: Fleet, *, reason: str, **changes) -> FleetRevision | None:
    """Changes settings; returns the new revision, or None when the rendering did not change."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"not changeable here: {', '.join(sorted(unknown))}")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the fleet changes: the revision records it."})
    with transaction.atomic():
        changed = audited.save(actor, fleet, context={"reason": reason}, **changes)
        if {"unrouted", "quarantine_topic"} & set(changed):
            credentials.provision(fleet)
        return _revise(actor, fleet, reason=reason) if changed else None


def secret_credential(revision: FleetRevision | None) -> tuple[str, str] | None:
    """The (username, password state) a revision's Secret carries."""
    for manifest in revision.manifests if revision else ():
        if manifest["kind"] == "Secret":
            annotations = manifest["metadata"]["annotations"]
            return annotations[CREDENTIAL_ANNOTATION], annotations.get(PASSWORD_ANNOTATION, "")
    return None


def refresh_routing(fleet: Fleet) -> FleetRevision | None:
    """A revision when the catalogue changed the fleet's routing, or the shipper's credential changed (provisioned
    or rotated), or anything else it renders."""
    with transaction.atomic():
        latest = latest_revision(fleet)
        after = {r.namespace: r.topic for r in routes_for(fleet)}
        reason = "catalogue: " + describe_change(latest.routes if latest else {}, after)
        credential = credentials.current_credential(fleet)
        if latest is not None and secret_credential(latest)[0] != credential.username:
            reason += f"; credential rotated to {credential.username}"
        elif latest is not None and secret_credential(latest)[1] != "kept" and credential.password is not None:
            reason += f"; credential {credential.username} provisioned"
        return _revise(audit.SYSTEM, fleet, reason=reason)


def refresh_and_enforce(fleet: Fleet) -> int | None:
    """refresh_routing, then applying the new revision where the fleet enforces, or where it carries a new
    credential for an applied fleet (its old slot ends with the rotation's overlap); the revision's number."""
    live = secret_credential(fleet.live_revision)
    revision = refresh_routing(fleet)
    if revision is not None and settings.KUBECONFIG and (
            fleet.enforce or (live is not None and live != secret_credential(revision))):
        apply(audit.SYSTEM, fleet, revision=revision)
    return revision.number if revision else None


def rotate_credential(actor, fleet: Fleet, *, overlap_hours: int):
    """Starts a rotation of the shipper's credential (audited): the reconciler makes the other slot, the next
    periodic pass (shipper.check_fleets) renders and applies a revision on its Secret, and the current slot keeps
    working for `overlap_hours`, then leaves the broker and its Secret the cluster."""
    longest = settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS
    if not 1 <= overlap_hours <= longest:
        raise ValidationError({"overlap_hours": [f"Between 1 and {longest} hours: how long the current password "
                                                 f"keeps working while the pods roll onto the new one."]})
    with transaction.atomic():
        new = credentials.rotate(fleet, overlap=timedelta(hours=overlap_hours))
        audit.record(actor, "fleet.rotate_credential", fleet, username=new.username, overlap_hours=overlap_hours)
    return new


# --- the cluster -------------------------------------------------------------------------------------------

@contextlib.contextmanager
def connected() -> Iterator[KubeCluster]:
    if not settings.KUBECONFIG:
        raise FleetNotConfigured({"kube": "No Kubernetes cluster configured (LOGWARDEN_KUBECONFIG): fleets are "
                                          "rendered but cannot be applied."})
    with KubeCluster.from_kubeconfig(settings.KUBECONFIG) as cluster:
        yield cluster


def observe(cluster: KubeCluster, objects: list[dict]) -> dict[ObjectKey, dict | None]:
    return {key: cluster.get(key.api_version, key.kind, key.name, key.namespace)
            for key in map(ObjectKey.of, objects)}


@dataclass
class ApplyResult:
    revision: FleetRevision
    plan: Plan
    dry_run: bool
    outcomes: dict[str, str] = field(default_factory=dict)  # object → "created", "updated" or the error

    @property
    def failed(self) -> dict[str, str]:
        return {name: outcome for name, outcome in self.outcomes.items() if outcome not in ("created", "updated")}

    def as_dict(self) -> dict:
        return {"revision": self.revision.number, "content_hash": self.revision.content_hash,
                "dry_run": self.dry_run, "outcomes": self.outcomes,
                "plan": [{"object": str(item.key), "action": item.action,
                          "differences": [str(d) for d in item.differences]} for item in self.plan.items]}


def _with_credential(fleet: Fleet, item: PlanItem) -> dict:
    """The Secret as applied: its username and (once provisioned, and while its slot is the current one) password,
    added here and nowhere else."""
    if item.key.kind != "Secret":
        return item.manifest
    username = item.manifest["metadata"]["annotations"][CREDENTIAL_ANNOTATION]
    credential = credentials.current_credential(fleet)
    data = {"username": username}
    if credential.password is not None and credential.username == username:
        data["password"] = credential.password
    return {**item.manifest, "stringData": data}


def retire_secrets(cluster: KubeCluster, fleet: Fleet, live: FleetRevision) -> list[str]:
    """Deletes the fleet's Secrets of credential slots that are no longer live (their rotation's overlap ended),
    audited; the Secret of the live revision always stays. Returns the names deleted."""
    keep = {credential.username for credential in credentials.live_credentials(fleet)}
    keep.add(secret_credential(live)[0])
    found = cluster.list_objects("v1", "Secret", fleet.kube_namespace,
                                 label_selector={FLEET_LABEL: fleet.name, SECRET_LABEL: "true"})
    retired = [secret["metadata"]["name"] for secret in found
               if secret["metadata"].get("annotations", {}).get(CREDENTIAL_ANNOTATION) not in keep]
    for name in retired:
        cluster.delete("v1", "Secret", name, fleet.kube_namespace)
        audit.record(audit.SYSTEM, "fleet.secret_retire", fleet, kube_object=f"Secret {fleet.kube_namespace}/{name}")
    return retired


def apply(actor, fleet: Fleet, *, revision: FleetRevision | None = None, dry_run: bool = False) -> ApplyResult:
    """Applies a revision (default: the latest). A dry run asks the server to validate each change and writes
    nothing. Each object's outcome is its own; the revision is live once every object was applied."""
    revision = revision or latest_revision(fleet)
    if revision is None:
        raise FleetNotConfigured({"revision": f"Fleet {fleet.name} has no revision to apply."})
    if not dry_run:
        # fleets created before their principal (or their canary's reader) existed get it at their first apply
        credentials.provision(fleet)
        canary.provision(fleet)
    with connected() as cluster:
        result = ApplyResult(revision, plan(revision.manifests, observe(cluster, revision.manifests)), dry_run)
        for item in result.plan.changes:
            try:
                cluster.apply(_with_credential(fleet, item), dry_run=dry_run)
            except KubeError as exc:
                result.outcomes[str(item.key)] = f"failed: {exc}"
            else:
                result.outcomes[str(item.key)] = "created" if item.action == CREATE else "updated"
        if not dry_run and not result.failed:
            retire_secrets(cluster, fleet, revision)
    if dry_run:
        return result
    with transaction.atomic():
        if not result.failed:
            revision.applied_at = revision.applied_at or timezone.now()
            revision.save(update_fields=["applied_at"])
            fleet.live_revision, fleet.drift = revision, []
            fleet.save(update_fields=["live_revision", "drift"])
        audit.record(actor, "fleet.apply", fleet, revision=revision.number, content_hash=revision.content_hash,
                     outcomes=result.outcomes, unchanged=[str(i.key) for i in result.plan.items
                                                          if i not in result.plan.changes])
    return result


def rollback(actor, fleet: Fleet, to: FleetRevision, *, reason: str) -> ApplyResult:
    """Re-applies an old revision's content as a new revision."""
    if to.fleet_id != fleet.pk:
        raise ValidationError({"revision": f"Revision {to.number} is not one of fleet {fleet.name}'s."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the fleet rolls back: the revision records it."})
    content = Desired(to.config_name, to.config, to.manifests, to.routes, to.content_hash)
    credential = credentials.current_credential(fleet)
    if secret_credential(to) != (credential.username, "kept" if credential.password else "pending"):
        # the old revision's slot may be retired since: the rollback keeps the credential the shippers have now
        objects, digest = rebind_credential(to.manifests, to.config_name, to.config,
                                            kafka_username=credential.username,
                                            password_kept=credential.password is not None)
        content = Desired(to.config_name, to.config, objects, to.routes, digest)
    with transaction.atomic():
        revision = _record_revision(actor, fleet, content, reason=f"rollback to #{to.number}: {reason}",
                                    rollback_of=to)
        audit.record(actor, "fleet.rollback", fleet, revision=revision.number, to_revision=to.number)
    return apply(actor, fleet, revision=revision)


def check_drift(fleet: Fleet) -> list[str]:
    """Compares the live revision with the cluster; records (and audits) hand edits found, and re-applies when
    the fleet enforces. Returns what differs, one line per difference."""
    live = fleet.live_revision
    if live is None:
        return []
    with connected() as cluster:
        found = plan(live.manifests, observe(cluster, live.manifests)).changes
        retire_secrets(cluster, fleet, live)
    drift = [f"{item.key}: {'missing' if item.action == CREATE else '; '.join(map(str, item.differences))}"
             for item in found]
    with transaction.atomic():
        if drift and drift != fleet.drift:
            audit.record(audit.SYSTEM, "fleet.drift", fleet, revision=live.number, drift=drift,
                         reapplied=fleet.enforce)
        fleet.drift, fleet.drift_checked_at = drift, timezone.now()
        fleet.save(update_fields=["drift", "drift_checked_at"])
    if drift and fleet.enforce:
        apply(audit.SYSTEM, fleet, revision=live)
    return drift


def health(fleet: Fleet) -> fleet_health.FleetHealth:
    live = fleet.live_revision
    revisions = dict(fleet.revisions.order_by("number").values_list("content_hash", "number"))
    with connected() as cluster:
        daemon_set = cluster.get("apps/v1", "DaemonSet", object_name(fleet.name), fleet.kube_namespace)
        pods = cluster.list_objects("v1", "Pod", fleet.kube_namespace, label_selector=selector(fleet.name))
    return fleet_health.assess(daemon_set, pods, live_hash=live.content_hash if live else None, revisions=revisions)

