"""The reconcile runs' API: who sees them, what each shows, filters. Against the real PostgreSQL; the runs are
rows (no broker)."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tests.api_clients import assert_allowed_as_expected, client_as, matrix
from topics.catalogue.clusters import default_cluster
from topics.models import ReconcileRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world):
    """A successful periodic reconcile run of the default cluster."""
    cluster = default_cluster()
    return SimpleNamespace(
        cluster=cluster,
        run=ReconcileRun.objects.create(cluster=cluster, trigger="periodic", started_at=timezone.now(),
                                        finished_at=timezone.now(), succeeded=True, counts={"create_acls": 2}),
    )


# --- authorization matrix ----------------------------------------------------------------------------------
# statuses in ROLES order: engineer, owner, auditor, admin, outsider, service_account, anonymous

REQUESTS = {
    "run-list": lambda s: ("get", "/api/reconcile-runs/", None),
    "run-retrieve": lambda s: ("get", f"/api/reconcile-runs/{s.run.pk}/", None),
    "run-delete": lambda s: ("delete", f"/api/reconcile-runs/{s.run.pk}/", None),
}

MATRIX = {
    "run-list": (403, 403, 200, 200, 403, 403, 401),
    "run-retrieve": (403, 403, 200, 200, 403, 403, 401),
    "run-delete": (403, 403, 405, 405, 403, 403, 401),
}


@pytest.mark.parametrize(("action", "role", "expected"), matrix(MATRIX))
def test_authorization_matrix(world, scene, action, role, expected):
    assert_allowed_as_expected(world, role, REQUESTS[action](scene), expected)


# --- reconcile runs ------------------------------------------------------------------------------------------------

def test_reconcile_runs_are_shown_and_filtered(world, scene):
    started = timezone.now()
    failed = ReconcileRun.objects.create(cluster=scene.cluster, trigger="change", started_at=started,
                                         finished_at=started + timedelta(seconds=2), succeeded=False,
                                         error="broker unreachable")
    auditor = client_as(world, "auditor")

    shown = auditor.get(f"/api/reconcile-runs/{failed.pk}/").json()

    assert {k: shown[k] for k in ("cluster", "trigger", "succeeded", "error", "duration_seconds")} == {
        "cluster": scene.cluster.name, "trigger": "change", "succeeded": False, "error": "broker unreachable",
        "duration_seconds": 2.0}
    assert [r["id"] for r in auditor.get("/api/reconcile-runs/", {"succeeded": "false"}).json()["results"]] == [
        failed.pk]
    assert [r["id"] for r in auditor.get("/api/reconcile-runs/", {"succeeded": "true"}).json()["results"]] == [
        scene.run.pk]
    assert len(auditor.get("/api/reconcile-runs/", {"cluster": scene.cluster.name}).json()["results"]) == 2
    assert auditor.get("/api/reconcile-runs/", {"cluster": "nowhere"}).status_code == 400


def test_a_partial_run_shows_its_status_and_the_items_the_broker_refused(world, scene):
    failure = {"action": "acl.create", "item": "User:u.alice.a ALLOW READ TOPIC:", "error": "Invalid empty name"}
    partial = ReconcileRun.objects.create(cluster=scene.cluster, trigger="periodic", started_at=timezone.now(),
                                          finished_at=timezone.now(), succeeded=False, status="partial",
                                          failures=[failure])

    shown = client_as(world, "auditor").get(f"/api/reconcile-runs/{partial.pk}/").json()

    assert shown["status"] == "partial" and shown["failures"] == [failure]
