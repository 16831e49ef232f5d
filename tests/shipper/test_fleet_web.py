"""The fleet pages and API: who sees and changes what, input errors as 400s naming the field, the settings form
making a revision shown as a diff, apply and dry run from the page (on the real API server)."""
from __future__ import annotations

import pytest

from shipper.fleet import services
from tests.api_clients import assert_allowed_as_expected, client_as, matrix
from tests.fleet_helpers import make_fleet
from tests.helpers import events, eventually, html

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(world, unique, kubeconfig, settings):
    settings.KUBECONFIG = kubeconfig
    return make_fleet(unique)


# roles: engineer, owner, auditor, admin, outsider, service_account, anonymous
API = matrix({
    "list": (403, 403, 200, 200, 403, 403, 401),
    "retrieve": (403, 403, 200, 200, 403, 403, 401),
    "update": (403, 403, 403, 200, 403, 403, 401),
    "revisions": (403, 403, 200, 200, 403, 403, 401),
    "canary-nodes": (403, 403, 200, 200, 403, 403, 401),
    "dry-run": (403, 403, 403, 200, 403, 403, 401),
})


@pytest.mark.parametrize("action, role, expected", API)
def test_api_authorization(world, fleet, action, role, expected):
    request = {
        "list": ("get", "/api/fleets/"),
        "retrieve": ("get", f"/api/fleets/{fleet.name}/"),
        "update": ("patch", f"/api/fleets/{fleet.name}/", {"buffer_mib": 100, "reason": "more"}),
        "revisions": ("get", f"/api/fleet-revisions/?fleet={fleet.name}"),
        "canary-nodes": ("get", f"/api/canary-nodes/?fleet={fleet.name}"),
        "dry-run": ("post", f"/api/fleets/{fleet.name}/apply/", {"dry_run": True}),
    }[action]
    if action == "dry-run":  # a dry run changes nothing, so it records nothing
        response = client_as(world, role).post(request[1], request[2], format="json")
        assert response.status_code == expected
        return
    assert_allowed_as_expected(world, role, request, expected)


def test_api_refuses_bad_settings_naming_the_field_and_changes_nothing(world, fleet):
    admin = client_as(world, "admin")
    for body, field in (({"buffer_mib": 100}, "reason"), ({"cpu_limit": "lots", "reason": "x"}, "cpu_limit"),
                        ({"tolerations": "everything", "reason": "x"}, "tolerations"),
                        ({"buffer_mib": 9999, "reason": "x"}, "buffer_mib")):
        response = admin.patch(f"/api/fleets/{fleet.name}/", body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.content)
    assert admin.post(f"/api/fleets/{fleet.name}/apply/", {"revision": 99}, format="json").json() == {
        "revision": [f"Fleet {fleet.name} has no revision 99."]}
    assert fleet.revisions.count() == 1 and not events("fleet.update")


def test_api_creates_applies_reads_health_and_rolls_back(world, unique, kubeconfig, settings):
    settings.KUBECONFIG = kubeconfig
    from topics.catalogue.clusters import default_cluster

    admin = client_as(world, "admin")
    made = admin.post("/api/fleets/", {"name": f"api-{unique}", "kafka_cluster": default_cluster().name,
                                       "kube_namespace": f"lw-api-{unique}", "buffer_mib": 32}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["principal"] == f"shipper.api-{unique}" and made.json()["live_revision"] is None
    url = f"/api/fleets/api-{unique}/"

    applied = admin.post(f"{url}apply/", {}, format="json").json()
    assert applied["revision"] == 1 and set(applied["outcomes"].values()) == {"created"}
    health = eventually(lambda: admin.get(f"{url}health/").json(), lambda h: h["state"] == "healthy",
                        "the DaemonSet controller to count the pods")
    assert (health["desired"], health["pods"]) == (0, []), "no node it may run on: the suite's nodes are tainted"
    assert admin.patch(url, {"buffer_mib": 48, "reason": "more"}, format="json").status_code == 200
    dry = admin.post(f"{url}apply/", {"dry_run": True}, format="json").json()
    assert dry["revision"] == 2 and dry["dry_run"] is True
    assert {item["action"] for item in dry["plan"]} == {"update", "unchanged"}
    rolled = admin.post(f"{url}rollback/", {"revision": 1, "reason": "undo"}, format="json").json()
    assert rolled["revision"] == 3 and rolled["outcomes"] == {}, "revision 2 never reached the cluster"
    revisions = admin.get(f"/api/fleet-revisions/?fleet=api-{unique}").json()["results"]
    assert [r["number"] for r in revisions] == [3, 2, 1] and revisions[0]["rollback_of"] == 1
    detail = admin.get(f"/api/fleet-revisions/{revisions[1]['id']}/").json()
    assert "+    limit_mib: 48" in detail["diff"] and detail["config_name"] == "collector.yaml"


@pytest.mark.parametrize("role, expected", [("engineer", 403), ("owner", 403), ("outsider", 403),
                                            ("auditor", 200), ("admin", 200)])
def test_pages_are_for_auditors_and_admins(as_role, fleet, role, expected):
    client = as_role(role)
    assert client.get("/fleets/").status_code == expected
    assert client.get(f"/fleets/{fleet.name}/").status_code == (404 if expected == 403 else 200)
    assert client.get(f"/fleets/{fleet.name}/revisions/1/").status_code == (404 if expected == 403 else 200)


def test_an_auditor_reads_but_cannot_change_or_apply(as_role, fleet):
    client = as_role("auditor")
    page = html(client.get(f"/fleets/{fleet.name}/"))
    assert "Save settings" not in page and "Revision" in page
    assert "Apply revision" not in html(client.get(f"/fleets/{fleet.name}/revisions/1/"))
    assert client.post(f"/fleets/{fleet.name}/", {"buffer_mib": 100, "reason": "x"}).status_code == 403
    assert client.post(f"/fleets/{fleet.name}/revisions/1/apply/").status_code == 403
    assert fleet.revisions.count() == 1 and not events("fleet.apply")


def _settings_form(fleet, **changes) -> dict:
    from django.forms import model_to_dict

    data = model_to_dict(fleet, fields=services.SETTINGS_FIELDS)
    data.update(changes)
    data["tolerations"] = changes.get("tolerations", "[]")
    data["node_selector"] = changes.get("node_selector", "{}")
    return {key: value for key, value in data.items() if value is not None and value is not False}


def test_the_settings_form_makes_a_revision_shown_as_a_diff_then_applied(as_role, fleet, kube_cluster):
    client = as_role("admin")

    response = client.post(f"/fleets/{fleet.name}/", _settings_form(fleet, buffer_mib=96, reason="bursts"))

    assert response.status_code == 302 and response.url == f"/fleets/{fleet.name}/revisions/2/"
    page = html(client.get(response.url))
    assert "+    limit_mib: 96" in page and "-    limit_mib: 64" in page
    dry = html(client.post(f"/fleets/{fleet.name}/revisions/2/apply/", {"dry_run": "1"}))
    assert "Dry run of revision 2" in dry and "create" in dry
    assert client.post(f"/fleets/{fleet.name}/revisions/2/apply/").status_code == 302
    fleet.refresh_from_db()
    assert fleet.live_revision.number == 2


def test_a_bad_setting_in_the_form_is_shown_on_its_field_and_nothing_changes(as_role, fleet):
    client = as_role("admin")
    response = client.post(f"/fleets/{fleet.name}/", _settings_form(fleet, buffer_mib=900, reason="x"))
    assert response.status_code == 200
    assert "must fit below the memory limit" in html(response)
    fleet.refresh_from_db()
    assert fleet.buffer_mib == 64 and fleet.revisions.count() == 1
