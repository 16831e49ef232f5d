"""The web pages of the catalogue: signing in, the dashboard, the namespace browser and a namespace's page.
Each role sees what it may; forbidden actions are a 403; every change is audited."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from tests.helpers import PEOPLE, actions, html
from topics.models import KafkaCluster, Namespace, RetentionClass, Topic

pytestmark = pytest.mark.django_db


def names_listed(response) -> list[str]:
    """Namespace names linked from the rows of a namespace table, in order."""
    return re.findall(r'<a href="/namespaces/([a-z0-9-]+)/"><strong>', html(response))


# --- access ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/namespaces/", "/namespaces/payments/", "/teams/", "/teams/payments/",
                                 "/teams/mappings/"])
def test_every_page_asks_for_sign_in_first(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", ["/namespaces/nope/", "/teams/nope/"])
def test_missing_things_are_404(as_role, url):
    assert as_role("engineer").get(url).status_code == 404


def test_forbidden_shows_the_403_page(as_role):
    response = as_role("engineer").get("/teams/mappings/")
    assert response.status_code == 403
    assert "Not allowed" in html(response)


def test_nav_shows_mappings_to_admins_only(as_role):
    assert 'href="/teams/mappings/"' in html(as_role("admin").get("/namespaces/"))
    assert 'href="/teams/mappings/"' not in html(as_role("engineer").get("/namespaces/"))


def test_dashboard_shows_my_teams_and_their_namespaces(as_role):
    page = html(as_role("engineer").get("/"))
    assert 'href="/teams/payments/"' in page
    assert 'href="/namespaces/payments/"' in page and 'href="/namespaces/checkout/"' not in page


# --- namespace browser ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", PEOPLE)
def test_namespace_browser_lists_every_namespace_for_every_role(as_role, role):
    response = as_role(role).get("/namespaces/")
    assert response.status_code == 200
    assert names_listed(response) == ["checkout", "payments"]
    page = html(response)
    assert "Payments" in page and "Checkout" in page
    assert "standard <span class=\"muted\">· 7 days</span>" in page
    assert "High" in page and "Active" in page
    # only platform admins register namespaces; the form starts on the default retention class
    assert ("Register a namespace" in page) is (role == "admin")
    assert ('<option value="" selected>— no owner yet —</option>' in page) is (role == "admin")
    default = RetentionClass.objects.get(name="standard").pk
    assert (f'<option value="{default}" selected>standard · 7 days</option>' in page) is (role == "admin")


def test_browser_shows_topic_state_per_cluster(as_role, world):
    east = KafkaCluster.objects.create(name="east", bootstrap="east:9092")
    west = KafkaCluster.objects.create(name="west", bootstrap="west:9092")
    Topic.objects.create(namespace=world.ns_payments, cluster=east, name="logs.payments", state="ready")
    Topic.objects.create(namespace=world.ns_payments, cluster=west, name="logs.payments", state="error",
                         last_error="broker unreachable")

    page = html(as_role("engineer").get("/namespaces/"))

    assert "east: ready" in page and "west: error" in page and "no topic" in page  # checkout has none


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "pay"}, ["payments"]),
    ({"q": "CHECK"}, ["checkout"]),
    ({"owner_team": "checkout"}, ["checkout"]),
    ({"sensitivity": "high"}, ["checkout"]),
    ({"sensitivity": "standard"}, ["payments"]),
    ({"lifecycle": "active"}, ["checkout", "payments"]),
    ({"retention_class": "standard"}, ["checkout", "payments"]),
    ({"retention_class": "long"}, []),
    ({"lifecycle": "retired"}, []),
])
def test_browser_filters_and_search(as_role, query, expected):
    response = as_role("engineer").get("/namespaces/", query)
    assert names_listed(response) == expected
    if not expected:
        assert "No namespaces match." in html(response)


def test_browser_paginates_and_page_links_keep_the_filters(as_role, world):
    standard = RetentionClass.objects.get(name="standard")
    for i in range(30):
        Namespace.objects.create(name=f"bulk-{i:02d}", owner_team=world.payments, retention_class=standard)
    client = as_role("engineer")

    first = client.get("/namespaces/", {"q": "bulk", "owner_team": "payments"})
    second = client.get("/namespaces/", {"q": "bulk", "owner_team": "payments", "page": 2})

    assert names_listed(first) == [f"bulk-{i:02d}" for i in range(25)]
    assert names_listed(second) == [f"bulk-{i:02d}" for i in range(25, 30)]
    assert "30 in all" in html(first) and "page 1 of 2" in html(first)
    assert 'href="?q=bulk&amp;owner_team=payments&amp;page=2"' in html(first)
    assert 'href="?q=bulk&amp;owner_team=payments&amp;page=1"' in html(second)


# --- namespace page -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", PEOPLE)
def test_namespace_page_for_every_role(as_role, world, role):
    world.ns_payments.labels = {"app": "api", "tier": "backend"}
    world.ns_payments.save()
    cluster = KafkaCluster.objects.create(name="east", bootstrap="east:9092")
    Topic.objects.create(namespace=world.ns_payments, cluster=cluster, name="logs.payments", state="error",
                         last_error="TopicAuthorizationFailed", synced_at=timezone.now())

    response = as_role(role).get("/namespaces/payments/")

    assert response.status_code == 200
    page = html(response)
    assert 'href="/teams/payments/">Payments</a>' in page
    assert "Retention: standard" in page and "7 days" in page and "604800000" in page
    assert "cleanup.policy" in page and "Standard" in page
    assert "<span>app</span>api" in page and "<span>tier</span>backend" in page
    assert "logs.payments" in page and "TopicAuthorizationFailed" in page
    assert ('name="sensitivity"' in page) is (role == "admin")  # the edit form


def test_admin_edits_a_namespace_through_the_service_and_it_is_audited(as_role, world):
    long = RetentionClass.objects.get(name="long")
    response = as_role("admin").post("/namespaces/payments/", {
        "owner_team": world.checkout.pk, "sensitivity": "restricted", "retention_class": long.pk,
        "description": "Card payments"})

    assert response.status_code == 302
    world.ns_payments.refresh_from_db()
    assert (world.ns_payments.owner_team, world.ns_payments.sensitivity, world.ns_payments.retention_class,
            world.ns_payments.description) == (world.checkout, "restricted", long, "Card payments")
    event = AuditEvent.objects.get(action="namespace.update")
    assert event.actor == world.admin
    assert event.data["changes"]["retention_class"] == {"from": "standard", "to": "long"}


def test_namespace_edit_errors_are_shown_by_field_and_keep_the_input(as_role, world):
    response = as_role("admin").post("/namespaces/payments/", {
        "owner_team": world.checkout.pk, "sensitivity": "top-secret", "retention_class": "",
        "description": "kept as typed"})

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"sensitivity", "retention_class"}
    assert "kept as typed" in html(response)
    assert f'<option value="{world.checkout.pk}" selected>' in html(response)
    world.ns_payments.refresh_from_db()
    assert world.ns_payments.sensitivity == "standard"
    assert "namespace.update" not in actions()


@pytest.mark.parametrize("role", ["engineer", "owner", "auditor", "outsider"])
def test_only_admins_edit_or_register_namespaces(as_role, world, role):
    client = as_role(role)
    edit = client.post("/namespaces/payments/", {"sensitivity": "low", "retention_class": world.ns_payments
                                                 .retention_class_id})
    register = client.post("/namespaces/", {"name": "sneaky", "sensitivity": "low",
                                            "retention_class": world.ns_payments.retention_class_id})

    assert (edit.status_code, register.status_code) == (403, 403)
    assert not Namespace.objects.filter(name="sneaky").exists()
    world.ns_payments.refresh_from_db()
    assert world.ns_payments.sensitivity == "standard"


def test_admin_registers_a_namespace_and_it_is_audited(as_role, world):
    standard = RetentionClass.objects.get(name="standard")
    response = as_role("admin").post("/namespaces/", {
        "name": "ledger", "owner_team": world.payments.pk, "sensitivity": "high",
        "retention_class": standard.pk, "description": "The ledger"})

    assert response.status_code == 302 and response["Location"] == "/namespaces/ledger/"
    namespace = Namespace.objects.get(name="ledger")
    assert (namespace.owner_team, namespace.sensitivity, namespace.discovered) == (world.payments, "high", False)
    event = AuditEvent.objects.get(action="namespace.register")
    assert event.actor == world.admin and event.data["source"] == "manual"


@pytest.mark.parametrize(("name", "message"), [
    ("Bad_Name", "A Kubernetes namespace name"),
    ("payments", "already exists"),
    ("", "This field is required."),
])
def test_register_errors_are_shown_by_field_and_keep_the_input(as_role, world, name, message):
    response = as_role("admin").post("/namespaces/", {
        "name": name, "owner_team": world.checkout.pk, "sensitivity": "high",
        "retention_class": RetentionClass.objects.get(name="long").pk, "description": "typed with care"})

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["name"] and message in form.errors["name"][0]
    page = html(response)
    assert '<details class="panel" open>' in page  # the register panel stays open on errors
    assert f'name="name" value="{name}"' in page or not name
    assert "typed with care" in page and '<option value="high" selected>' in page
    assert "namespace.register" not in actions()
