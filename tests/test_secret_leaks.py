"""No Kafka password or API token leaks: run the main flows through a real worker, Redis, PostgreSQL and the
broker, then search every log line, audit event, Celery message and result, the database dump and every page
rendered after the one display for each secret."""
from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import subprocess
import time
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.test import Client

from portal.celery import app
from portal.core.audit import SYSTEM
from portal.devservices.postgres import postgres_bin
from portal.models import AuditEvent
from tests.factories import person
from tests.helpers import real_worker
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.models import CredentialState, KafkaCredential
from topics.kafka.adapter import read_records
from topics.kafka.types import Operation
from topics.provisioning import credentials, system_principals, system_roles
from topics.provisioning.principals import principal_for

pytestmark = [pytest.mark.kafka, pytest.mark.redis]
PASSWORD_FIELD = re.compile(r'id="kafka-password"[^>]*value="([^"]+)"')


def wait_for_active(principal, cluster, *, exclude=(), seconds=30) -> KafkaCredential:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = KafkaCredential.objects.filter(principal=principal, cluster=cluster,
                                               state=CredentialState.ACTIVE).exclude(pk__in=exclude).first()
        if found is not None and (hasattr(found, "handoff") or hasattr(found, "system_secret")):
            return found
        time.sleep(0.3)
    raise AssertionError(f"no active credential for {principal} within {seconds}s")


def displayed_password(client: Client, credential: KafkaCredential) -> str:
    response = client.post(f"/access/credentials/{credential.pk}/password/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    return PASSWORD_FIELD.search(response.content.decode()).group(1)


@contextlib.contextmanager
def every_log_record():
    """Captures every record at every level, from every thread, formatted with its arguments. Installed once
    the worker has started, since starting a Celery worker reconfigures logging."""
    buffer, root = io.StringIO(), logging.getLogger()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(exc_info)s"))
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


def redis_dump(url: str) -> str:
    """Every key and value in Redis: Celery's queued messages and stored results."""
    client, parts = redis.Redis.from_url(url), []
    for key in client.scan_iter():
        kind = client.type(key).decode()
        value = {"string": lambda: client.get(key), "list": lambda: client.lrange(key, 0, -1),
                 "hash": lambda: client.hgetall(key), "set": lambda: client.smembers(key),
                 "zset": lambda: client.zrange(key, 0, -1)}.get(kind, lambda: b"")()
        parts.append(f"{key!r} {value!r}")
    return "\n".join(parts)


def database_dump() -> str:
    db = connection.settings_dict
    result = subprocess.run(
        [str(postgres_bin() / "pg_dump"), "--data-only", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"],
         db["NAME"]], capture_output=True, text=True, env={"PGPASSWORD": db["PASSWORD"]}, check=True)
    return result.stdout


def api_audit_pages(client: Client) -> list:
    """Every page of /api/audit-events/, following `next` links: all the events, not just the first page."""
    pages, url = [], "/api/audit-events/"
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.content[:300]
        pages.append(page)
        url = page.json()["next"]
    assert sum(len(p.json()["results"]) for p in pages) == pages[0].json()["count"] == AuditEvent.objects.count()
    return pages


def admin_audit_pages(superuser: Client) -> list:
    """The Django admin's audit event list (every page of it) and each event's own page."""
    pages = [superuser.get("/admin/portal/auditevent/")]
    pages += [superuser.get("/admin/portal/auditevent/", {"p": p})  # 1-based
              for p in range(2, pages[0].context["cl"].paginator.num_pages + 1)]
    pages += [superuser.get(f"/admin/portal/auditevent/{pk}/change/")
              for pk in AuditEvent.objects.values_list("sequence", flat=True)]
    assert sum(len(p.context["cl"].result_list) for p in pages if "cl" in p.context) == AuditEvent.objects.count()
    return pages


@pytest.fixture
def system_role(unique):
    """A system role reading every managed topic, registered for the test only."""
    name = f"leak-reader-{unique}"
    system_roles.register(name, consumer_groups=True, bindings=lambda cluster, usernames, topics: (
        system_roles.topic_bindings(usernames, topics, [Operation.READ, Operation.DESCRIBE])))
    yield name
    system_roles.unregister(name)


@pytest.mark.django_db(transaction=True)
def test_no_secret_appears_anywhere_after_its_one_display(world, unique, redis_url, caplog, capfd, system_role):
    caplog.set_level(logging.DEBUG)
    assert not app.conf.task_always_eager  # messages really go through Redis to a worker
    alice, frank, admin = Client(), Client(), Client()
    # the namespace's owner is in another team: nobody decides on a request for a principal they could act as,
    # and every member of payments could act as payments' service account
    checkout_owner = person(f"frank-{unique}", "team-checkout", "logwarden-owners")
    alice.force_login(world.engineer)
    frank.force_login(checkout_owner)
    admin.force_login(world.admin)
    secrets = [world.token]
    namespace = catalogue.register_namespace(SYSTEM, name=f"leak-{unique}", owner_team=world.checkout)
    cluster = namespace.topics.get().cluster

    with real_worker(), every_log_record() as logs:
        # request → approval → first credential, shown once on its page
        principal = principal_for(world.engineer)
        request = access.create_request(world.engineer, principal=principal, namespaces=[namespace],
                                        reason="leak test", duration_days=2)
        response = frank.post(f"/access/approvals/{request.items.get().pk}/",
                            {"decision": "approve", "comment": "fine"})
        assert response.status_code == 302, response.content.decode()[:500]
        first = wait_for_active(principal, cluster)
        secrets.append(displayed_password(alice, first))

        # rotation → second credential, shown once
        credentials.rotate(world.engineer, principal, cluster, overlap=timedelta(hours=1))
        second = wait_for_active(principal, cluster, exclude=[first.pk])
        secrets.append(displayed_password(alice, second))

        # the service account's own flow through the API with its token
        account = principal_for(world.service_account.user)
        sa_request = access.create_request(world.engineer, principal=account, namespaces=[namespace],
                                           reason="etl", duration_days=2)
        access.decide(checkout_owner, sa_request.items.get(), "approve", "ok")
        sa_credential = wait_for_active(account, cluster)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}")
        shown = api.post(f"/api/credentials/{sa_credential.pk}/show-password/")
        assert shown.status_code == 200, shown.content
        secrets.append(shown.json()["password"])

        # a system principal: its password is kept for the portal's own use through the adapter, never shown
        system = system_principals.ensure(f"portal.leak{unique}", system_role, cluster)
        wait_for_active(system, cluster)
        system_connection = system_principals.connection(system.name, cluster)
        read_records(system_connection, namespace.topics.get().name, group=f"{system.group_prefix}leak", timeout=2)
        secrets.append(system_connection.password)

    assert len(set(secrets)) == 5 and all(len(s) >= 20 for s in secrets)

    # everything rendered after the displays: each page must really render (a redirect to the login page or
    # an error page would be searched in vain), so each is asserted to return what it shows
    root = Client()
    root.force_login(person(f"root-{unique}", superuser=True))  # the Django admin site is for superusers
    second_display = alice.post(f"/access/credentials/{first.pk}/password/", follow=True)
    assert second_display.redirect_chain and "The password cannot be shown" in second_display.content.decode()
    second_api_display = api.post(f"/api/credentials/{sa_credential.pk}/show-password/")
    assert second_api_display.status_code == 410 and "cannot be shown" in second_api_display.json()["detail"]
    pages = [
        second_display, second_api_display,
        alice.get("/access/credentials/"), alice.get("/access/grants/"), alice.get(f"/access/requests/{request.pk}/"),
        alice.get(f"/access/principals/{principal.name}/"), alice.get(f"/namespaces/{namespace.name}/"),
        alice.get("/teams/payments/"), admin.get("/access/reconcile/"),
        admin.get(f"/access/principals/{system.name}/"),
        api.get("/api/credentials/"), api.get(f"/api/credentials/{sa_credential.pk}/client-config/"),
        *admin_audit_pages(root), *api_audit_pages(admin),
    ]
    failed = [(page.request["PATH_INFO"], page.status_code) for page in pages
              if page.status_code != 200 and page is not second_api_display]
    assert failed == [], f"pages that did not render: {failed}"
    haystacks = {
        "log records": caplog.text + logs.getvalue(),
        "stdout/stderr": "".join(capfd.readouterr()),
        "audit events": json.dumps([[e.actor_label, e.action, e.target_label, e.target_id, e.data]
                                    for e in AuditEvent.objects.all()]),
        "celery messages and results": redis_dump(redis_url),
        "database dump": database_dump(),
        **{f"page {n} {page.request['PATH_INFO']}?{page.request.get('QUERY_STRING', '')}":
           page.content.decode(errors="replace") for n, page in enumerate(pages)},
    }
    assert len(haystacks["database dump"]) > 10_000 and "celery-task-meta" in haystacks["celery messages and results"]
    for secret in secrets:
        leaks = [where for where, text in haystacks.items() if secret in text]
        assert leaks == [], f"a secret leaked into: {leaks}"
