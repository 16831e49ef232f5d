"""Helpers the suites share: where the project is, the real servers' environment, the audit trail and pages as
the tests read them, and `manage.py` run in a clean environment. No import of the project at module level:
the architecture test stays pure, and conftest may import this before Django is set up."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # the project: manage.py and the apps' packages

PEOPLE = ("engineer", "owner", "auditor", "admin", "outsider")  # the world's people, in the matrices' order


def require_env(*names: str) -> dict[str, str]:
    """The real servers' settings the harness exported; a test that needs one and does not find it fails."""
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run the suite with `make test`, which starts the real "
                    f"servers and exports where they are", pytrace=False)
    return {name: os.environ[name] for name in names}


def events(action: str) -> list:
    """Events of `action` recorded by the calls under test (the fixtures' rows were recorded by the system,
    if at all)."""
    from portal.core.audit import SYSTEM
    from portal.models import AuditEvent

    return list(AuditEvent.objects.filter(action=action).exclude(actor_label=SYSTEM.label))


def actions() -> list[str]:
    """Every audit event's action, in the order they were recorded."""
    from portal.models import AuditEvent

    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def html(response) -> str:
    return response.content.decode()


def run_manage(*args: str, clear: tuple[str, ...] = ("KAFKA_", "LDAP_", "DJANGO_", "LOGWARDEN_"),
               **env: str) -> subprocess.CompletedProcess:
    """`manage.py` in a fresh process on an in-memory SQLite database, without the settings whose names start
    with one of `clear`, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(clear)}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**clean, "DATABASE_URL": "sqlite:///:memory:", **env}, timeout=120)


def real_worker(*, shutdown_timeout: float = 30):
    """A real Celery worker in a thread of this process (a context manager), fed through the real Redis like
    the production one."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    return start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=shutdown_timeout)


def eventually(read, check, what: str, seconds: float = 10):
    """`read()` again until `check` holds for what it returns, at most `seconds`: the broker applies an
    acknowledged write to its metadata and authorizer a moment later. Returns the last value read."""
    deadline = time.monotonic() + seconds
    value = read()
    while not check(value):
        assert time.monotonic() < deadline, f"{what} within {seconds:g} s"
        time.sleep(0.1)
        value = read()
    return value


def create_acls_visibly(admin, bindings) -> None:
    """Creates ACLs out of band and waits until the broker shows them, so what a test reconciles next really
    sees them."""
    admin.create_acls(bindings)
    eventually(admin.describe_acls, lambda shown: set(bindings) <= set(shown), "the broker did not show the new ACLs")


def at_once(*calls) -> list:
    """Runs the calls in threads released together (each on its own database connection, as concurrent requests
    are); what each returned or raised, in order."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(10)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def owner_connection():
    """A psycopg connection (autocommit) to the test database as its owner role: what a DBA can do, around the
    application's runtime role."""
    import psycopg
    from django.db import connection

    from portal.core.database_roles import owner_credentials

    owner = owner_credentials()
    if owner is None:
        pytest.fail("LOGWARDEN_MIGRATE_DATABASE_URL not set: the harness's postgres exports the owner role",
                    pytrace=False)
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=owner["USER"],
                           password=owner["PASSWORD"], autocommit=True)


def tamper_as_owner(*statements: tuple[str, list]) -> None:
    """Runs (statement, params) pairs as the owner with the audit trail's triggers off, in one transaction: what
    a DBA can do. Constraints are checked at once, so the triggers can be switched on again before the end."""
    with owner_connection() as owner, owner.transaction():
        owner.execute("SET CONSTRAINTS ALL IMMEDIATE")
        owner.execute("ALTER TABLE portal_auditevent DISABLE TRIGGER USER")
        for statement, params in statements:
            owner.execute(statement, params)
        owner.execute("ALTER TABLE portal_auditevent ENABLE TRIGGER USER")


def sealed_csv_rows(response) -> list[dict]:
    """The rows of a sealed CSV export (topics.audit.evidence), once its seal verifies with the checkpoint key."""
    from topics.audit import checkpoints, evidence

    assert evidence.verify(response.content, [checkpoints.signing_key().public_key()]).fmt == "csv"
    content = response.content.decode().rsplit("#logwarden-evidence ", 1)[0]
    return list(csv.DictReader(io.StringIO(content)))
