"""The history pages and API: who sees what (auditors and admins everything, owners their namespaces, others
nothing), the answer and the chart on the page, the downloads (CSV, JSON, PDF), and bad input as a named error."""
from __future__ import annotations

import json

import pytest
from django.utils import timezone

from tests.api_clients import client_as
from tests.helpers import sealed_csv_rows
from tests.factories import approve, ask, topic_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(world):
    """alice's request on payments, approved by bob: a grant of source request."""
    topic_of(world.ns_payments), topic_of(world.ns_checkout)
    return approve(world, ask(world, world.ns_payments, reason="chase a refund bug"))


def test_an_auditor_sees_who_could_read_with_why_and_the_chart(as_role, granted):
    page = as_role("auditor").get("/history/namespaces/payments/", {"at": timezone.now().isoformat()})

    body = page.content.decode()
    assert page.status_code == 200
    assert "u.alice" in body and "chase a refund bug" in body and "approved by bob" in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in body


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_the_answer_downloads_as_csv_json_and_pdf(as_role, granted, fmt):
    answer = as_role("auditor").get("/history/namespaces/payments/", {"at": timezone.now().isoformat(),
                                                                       "format": fmt})

    assert answer.status_code == 200
    assert answer["Content-Disposition"] == f'attachment; filename="who-could-read-payments.{fmt}"'
    if fmt == "csv":
        rows = sealed_csv_rows(answer)
        assert [(r["principal"], r["source"], r["approvers"]) for r in rows] == [("u.alice", "request", '["bob"]')]
    elif fmt == "json":
        document = json.loads(answer.content)
        assert document["rows"][0]["requester"] == "alice" and document["parameters"]["namespace"] == "payments"
    else:
        assert answer.content.startswith(b"%PDF")


def test_an_owner_sees_their_namespaces_only_and_others_see_no_history(as_role, client, world, granted):
    owner = as_role("owner")
    assert owner.get("/history/namespaces/payments/").status_code == 200
    assert owner.get("/history/namespaces/checkout/").status_code == 404
    assert owner.get("/history/reports/drift/").status_code == 403
    client.force_login(world.engineer)
    assert client.get("/history/").status_code == 403
    assert client.get("/history/namespaces/payments/").status_code == 403


def test_bad_input_is_a_named_error_never_a_500(as_role, granted):
    auditor = as_role("auditor")

    page = auditor.get("/history/namespaces/payments/", {"at": "last tuesday"})
    assert page.status_code == 200 and "Expected a date" in page.content.decode()
    assert auditor.get("/history/namespaces/payments/", {"format": "xlsx"}).status_code == 400
    assert auditor.get("/history/reports/expiring/", {"days": "0"}).status_code == 200
    assert auditor.get("/history/reports/stale/", {"namespace": "nope"}).status_code == 200


def test_the_home_forms_lead_to_their_answers(as_role, granted):
    auditor = as_role("auditor")

    assert auditor.get("/history/", {"namespace": "payments", "at": "2026-03-01"})["Location"] == \
        "/history/namespaces/payments/?at=2026-03-01"
    assert auditor.get("/history/", {"principal": "u.alice"})["Location"] == "/history/principals/u.alice/"
    assert "u.alice" in auditor.get("/history/principals/u.alice/").content.decode()


@pytest.mark.parametrize("path", ["/history/reports/expiring/", "/history/reports/stale/",
                                  "/history/reports/drift/", "/history/namespaces/payments/timeline/",
                                  "/history/namespaces/payments/grants/"])
def test_every_report_page_renders_and_downloads(as_role, granted, path):
    auditor = as_role("auditor")

    assert auditor.get(path).status_code == 200
    for fmt in ("csv", "json"):
        assert auditor.get(path, {"format": fmt}).status_code == 200
    assert auditor.get(path, {"format": "pdf"}).status_code == 400  # PDF: the point-in-time answer only


def test_the_api_answers_the_same_rows_for_the_same_people(world, granted):
    auditor = client_as(world, "auditor")

    rows = auditor.get("/api/history/namespaces/payments/access/").json()["results"]
    assert [(r["principal"], r["grant"], r["approvers"]) for r in rows] == [("u.alice", granted.pk, ["bob"])]
    assert auditor.get("/api/history/principals/u.alice/access/").json()["count"] == 1
    assert auditor.get("/api/history/reports/expiring/", {"days": 10}).json()["results"][0]["id"] == granted.pk
    assert auditor.get("/api/history/namespaces/payments/grants-per-day/", {"days": 3}).json()["count"] == 3
    assert client_as(world, "engineer").get("/api/history/namespaces/payments/access/").status_code == 403
    assert client_as(world, "owner").get("/api/history/namespaces/checkout/access/").status_code == 404
    refused = auditor.get("/api/history/namespaces/payments/access/", {"at": "soon"})
    assert refused.status_code == 400 and "at" in refused.json()
