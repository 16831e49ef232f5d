"""Namespace discovery against the real Kubernetes API server, with topics on the real broker."""
from __future__ import annotations

import pytest

from accounts.models import Team
from portal.models import AuditEvent
from shipper.discovery.services import OWNER_KEY, SENSITIVITY_KEY
from shipper.tasks import discover_namespaces
from topics.models import Lifecycle, Namespace, TopicState

pytestmark = [pytest.mark.kube, pytest.mark.kafka, pytest.mark.django_db]


def test_discovery_creates_updates_and_orphans_namespaces(kube_cluster, kafka_admin, unique, celery_eager,
                                                          django_capture_on_commit_callbacks, settings):
    team = Team.objects.create(slug=f"team-{unique}", name="Payments")
    name = f"pay-{unique}"
    kube_cluster.ensure_namespace(name, labels={OWNER_KEY: team.slug, SENSITIVITY_KEY: "high", "app": "api"})

    with django_capture_on_commit_callbacks(execute=True):
        first = discover_namespaces.delay().get()

    assert name in first["created"]
    namespace = Namespace.objects.get(name=name)
    # the label only suggests an owner: nobody decides requests for it until an admin confirms
    assert (namespace.owner_team, namespace.suggested_owner_team) == (None, team)
    assert (namespace.sensitivity, namespace.discovered) == ("high", True)
    assert namespace.labels["app"] == "api" and namespace.last_seen_at is not None
    topic = namespace.topics.get()
    assert topic.state == TopicState.READY and topic.name in kafka_admin.list_topics()

    # a re-run changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        again = discover_namespaces.delay().get()
    assert name not in again["created"] + again["updated"]

    kube_cluster.ensure_namespace(name, labels={OWNER_KEY: team.slug, SENSITIVITY_KEY: "restricted", "app": "api"})
    assert name in discover_namespaces.delay().get()["updated"]
    namespace.refresh_from_db()
    assert namespace.sensitivity == "restricted"

    # gone from Kubernetes (namespaces cannot be deleted without a controller manager: exclude it instead)
    settings.LOGWARDEN_DISCOVERY_EXCLUDE = [*settings.LOGWARDEN_DISCOVERY_EXCLUDE, name]
    assert name in discover_namespaces.delay().get()["orphaned"]
    namespace.refresh_from_db()
    assert namespace.lifecycle == Lifecycle.ORPHANED and namespace.orphaned_at is not None
    assert list(AuditEvent.objects.filter(target_id=str(namespace.pk), target_type="topics.namespace")
                .order_by("sequence").values_list("action", flat=True)) == [
        "namespace.register", "namespace.update", "namespace.orphan"]


def test_discovery_without_a_kubeconfig_says_so(settings, celery_eager):
    settings.KUBECONFIG = ""
    assert "LOGWARDEN_KUBECONFIG" in discover_namespaces.delay().get()["skipped"]
