"""Changes to the catalogue (namespaces, retention classes). Each change is audited and, once committed,
enqueues the topic sync of what it touched."""
from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Team
from portal.core import audit, audited
from topics import policy, queue
from topics.catalogue.clusters import default_cluster
from topics.models import KafkaCluster, Lifecycle, Namespace, RetentionClass, Sensitivity, Topic

NAMESPACE_FIELDS = ("owner_team", "sensitivity", "retention_class", "description")
RETENTION_FIELDS = ("description", "retention_ms", "retention_bytes", "cleanup_policy", "partitions", "archive_days")


class NoRetentionClass(ValidationError):
    pass


def default_retention_class() -> RetentionClass:
    from django.conf import settings

    found = RetentionClass.objects.filter(name=settings.LOGWARDEN_DEFAULT_RETENTION_CLASS).first()
    if found is None:
        raise NoRetentionClass({"retention_class": f"No retention class given and the default "
                                                   f"'{settings.LOGWARDEN_DEFAULT_RETENTION_CLASS}' "
                                                   f"(LOGWARDEN_DEFAULT_RETENTION_CLASS) does not exist."})
    return found


def _ensure_topic_rows(namespace: Namespace, clusters: Iterable[KafkaCluster]) -> list[Topic]:
    topics = []
    for cluster in clusters:
        topic, _ = Topic.objects.get_or_create(namespace=namespace, cluster=cluster,
                                               defaults={"name": cluster.topic_name_for(namespace.name)})
        topics.append(topic)
    return topics


def register_namespace(actor, *, name: str, owner_team: Team | None = None, sensitivity: str = "standard",
                       retention_class: RetentionClass | None = None, labels: dict | None = None,
                       description: str = "", discovered: bool = False,
                       suggested_owner_team: Team | None = None) -> Namespace:
    with transaction.atomic():
        namespace = Namespace(name=name, owner_team=owner_team, sensitivity=sensitivity,
                              retention_class=retention_class or default_retention_class(), labels=labels or {},
                              description=description, discovered=discovered,
                              suggested_owner_team=suggested_owner_team)
        namespace.full_clean()
        namespace.save()
        cluster = default_cluster()
        topics = _ensure_topic_rows(namespace, [cluster] if cluster else [])
        audit.record(actor, "namespace.register", namespace, source="discovery" if discovered else "manual",
                     owner_team=owner_team.slug if owner_team else None, sensitivity=sensitivity,
                     suggested_owner_team=suggested_owner_team.slug if suggested_owner_team else None,
                     retention_class=namespace.retention_class.name, topics=[t.name for t in topics])
        queue.sync_topics(t.pk for t in topics)
    return namespace


def quarantine_namespace_name(topic_name: str) -> str:
    """The catalogue row of a quarantine topic: `quarantine-` and the topic's name as a namespace name."""
    slug = re.sub(r"[^a-z0-9]+", "-", topic_name.lower()).strip("-")
    return f"quarantine-{slug}"[:63].rstrip("-")


def ensure_quarantine(actor, *, cluster: KafkaCluster, topic_name: str) -> Topic:
    """The quarantine topic `topic_name` on the cluster (a shipper fleet's, for namespaces without a topic), held
    by a catalogue row of its own, so the one topic sync creates it on the broker and grants of it follow the
    rules of every topic (only admins and auditors may hold one). Idempotent; audited when created."""
    existing = Topic.objects.filter(cluster=cluster, name=topic_name).select_related("namespace").first()
    if existing is not None:
        if not existing.namespace.quarantine:
            raise ValidationError({"quarantine_topic": [f"{topic_name} is the topic of namespace "
                                                        f"{existing.namespace.name}, not a quarantine."]})
        return existing
    with transaction.atomic():
        namespace = Namespace(name=quarantine_namespace_name(topic_name), quarantine=True,
                              sensitivity=Sensitivity.RESTRICTED, retention_class=default_retention_class(),
                              description="Records of namespaces without a topic of their own")
        namespace.full_clean()
        namespace.save()
        topic = Topic.objects.create(namespace=namespace, cluster=cluster, name=topic_name)
        audit.record(actor, "namespace.register", namespace, source="quarantine", sensitivity=namespace.sensitivity,
                     retention_class=namespace.retention_class.name, topics=[topic.name])
        queue.sync_topics([topic.pk])
    return topic


def update_namespace(actor, namespace: Namespace, **changes) -> Namespace:
    unknown = set(changes) - set(NAMESPACE_FIELDS)
    if unknown:
        raise ValueError(f"not changeable here: {', '.join(sorted(unknown))}")
    if changes.get("owner_team") is not None:
        changes["suggested_owner_team"] = None  # an owner an admin sets settles what a label suggested
    with transaction.atomic():
        if "retention_class" in audited.save(actor, namespace, **changes):
            queue.sync_topics(namespace.topics.values_list("pk", flat=True))
    return namespace


def confirm_owner(actor, namespace: Namespace) -> Namespace:
    """A platform admin confirms the owner team a Kubernetes label suggested: from now on its owners decide the
    namespace's requests (until then nobody may, so that labelling a namespace does not pick its approvers)."""
    if not policy.can_manage_catalogue(actor):
        raise PermissionDenied("Only platform admins confirm a namespace's owner.")
    with transaction.atomic():
        namespace = Namespace.objects.select_for_update(of=("self",)).select_related(
            "owner_team", "suggested_owner_team").get(pk=namespace.pk)
        if namespace.owner_team is not None:
            raise ValidationError({"owner_team": [f"{namespace.name} is already owned by {namespace.owner_team}."]})
        if namespace.suggested_owner_team is None:
            raise ValidationError({"suggested_owner_team": [f"No owner team is suggested for {namespace.name}: "
                                                            f"set its owner team instead."]})
        team = namespace.suggested_owner_team
        namespace.owner_team, namespace.suggested_owner_team = team, None
        namespace.save(update_fields=["owner_team", "suggested_owner_team"])
        audit.record(actor, "namespace.confirm_owner", namespace, owner_team=team.slug)
    return namespace


def retire_namespace(actor, namespace: Namespace, *, reason: str) -> None:
    """Retires a namespace: its grants stop being live, so a reconcile of its topics' clusters takes their
    ACLs off the broker; its pending request items can no longer be decided."""
    if namespace.lifecycle == Lifecycle.RETIRED:
        return
    with transaction.atomic():
        namespace.lifecycle = Lifecycle.RETIRED
        namespace.save(update_fields=["lifecycle"])
        audit.record(actor, "namespace.retire", namespace, reason=reason)
        queue.reconcile(namespace.topics.values_list("cluster_id", flat=True))


def save_retention_class(actor, retention_class: RetentionClass, **changes) -> RetentionClass:
    """Creates (unsaved instance) or changes a retention class; topics using it are re-synced."""
    unknown = set(changes) - set(RETENTION_FIELDS)
    if unknown:
        raise ValueError(f"not changeable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        if audited.save(actor, retention_class, **changes):
            queue.sync_topics(Topic.objects.filter(namespace__retention_class=retention_class)
                                     .values_list("pk", flat=True))
    return retention_class
