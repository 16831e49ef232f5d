"""The home page's summary: my live access and when it ends, the requests waiting on my decision, and the
changes approved but not yet confirmed on the broker — read from what the reconciler recorded (credential
states, successful runs), against the real PostgreSQL and, end to end, the real broker."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.core.audit import SYSTEM
from tests.factories import approve, ask
from tests.helpers import html
from topics.catalogue import services as catalogue
from topics.models import BrokerChange, CredentialState, Grant, KafkaCredential, ReconcileRun

pytestmark = pytest.mark.django_db


def rows(page: str) -> dict[str, str]:
    """The 'Your access' table's rows by principal and topic: the text of each row."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = re.findall(r"<code>([^<]+)</code>", row)
        if len(cells) >= 2:
            found[f"{cells[0]} {cells[1]}"] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
    return found


def test_my_teams_access_shows_when_it_ends_and_that_its_acls_await_a_reconcile(as_role, world, creds):
    grant = Grant.objects.get(principal=creds.etl.principal)

    page = html(as_role("engineer").get("/"))

    row = rows(page)["sa.payments-etl logs.payments"]
    assert f"{grant.valid_until:%Y-%m-%d %H:%M} UTC" in row and "pending: ACLs await a reconcile" in row
    assert "0 live grants" in page and "1 change pending on the broker" in page
    assert "u.erin" not in page  # not mine, nor my team's

    run = ReconcileRun.objects.create(cluster=creds.cluster, trigger="change", started_at=timezone.now(),
                                      finished_at=timezone.now(), succeeded=True)
    page = html(as_role("engineer").get("/"))

    # a run that succeeded since, but the change is still in the outbox: that run did not carry it
    assert "pending: ACLs await a reconcile" in rows(page)["sa.payments-etl logs.payments"]

    BrokerChange.objects.filter(cluster=creds.cluster, due_at__lte=timezone.now()).update(done_at=timezone.now(),
                                                                                       done_by=run)
    page = html(as_role("engineer").get("/"))

    assert "provisioned" in rows(page)["sa.payments-etl logs.payments"]
    assert "1 live grant" in page and "0 changes pending on the broker" in page
    assert f"the next ends {grant.valid_until:%Y-%m-%d %H:%M} UTC" in page


def test_a_failed_or_older_reconcile_confirms_nothing_and_a_pending_credential_says_so(as_role, world, creds):
    earlier = Grant.objects.get(principal=creds.other.principal).valid_from - timedelta(minutes=1)
    ReconcileRun.objects.create(cluster=creds.cluster, trigger="change", started_at=earlier, succeeded=True)
    ReconcileRun.objects.create(cluster=creds.cluster, trigger="change", started_at=timezone.now(), succeeded=False)
    KafkaCredential.objects.filter(pk=creds.other.pk).update(state=CredentialState.PENDING)

    page = html(as_role("outsider").get("/"))

    assert "pending: credential not created yet" in rows(page)["u.erin logs.checkout"]
    assert "1 change pending on the broker" in page


def test_ended_grants_are_not_live_access(as_role, world, creds):
    Grant.objects.filter(principal=creds.other.principal).update(valid_until=timezone.now() - timedelta(seconds=1),
                                                                 valid_from=timezone.now() - timedelta(days=1))
    page = html(as_role("outsider").get("/"))
    assert "Your access" not in page and "0 live grants" in page and "no access running" in page


def test_requests_waiting_on_me_are_counted_and_listed(as_role, world, pay):
    request = ask(world, pay)

    page = html(as_role("owner").get("/"))

    assert "1 request waits on you" in page and f"Request #{request.pk}</a>: <code>u.alice</code>" in page
    assert "0 requests wait on you" in html(as_role("engineer").get("/"))


@pytest.mark.kafka
def test_an_approval_is_pending_on_the_broker_until_its_reconcile_ran(
        as_role, world, unique, kafka_connection, celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"home-{unique}", owner_team=world.payments)
    topic = namespace.topics.get().name
    with django_capture_on_commit_callbacks(execute=False) as reconciles:
        approve(world, ask(world, namespace))

    assert "pending: credential not created yet" in rows(html(as_role("engineer").get("/")))[f"u.alice {topic}"]

    for callback in reconciles:  # the approval's reconcile, on the real broker
        callback()
    page = html(as_role("engineer").get("/"))

    assert "provisioned" in rows(page)[f"u.alice {topic}"] and "0 changes pending on the broker" in page
