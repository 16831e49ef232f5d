"""Shared fixtures. The real servers are started once per run by `make test`
(python -m portal.devservices run --profile test -- pytest …), which exports where they are.
A test that needs a server and does not find it fails: it never skips."""
from __future__ import annotations

import os
import uuid

import pytest

from tests.helpers import require_env


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The test database is created and migrated by the owner role (LOGWARDEN_MIGRATE_DATABASE_URL), as a
    production database is..."""
    from django.db import connection

    from portal.core.database_roles import owner_credentials

    if owner_credentials():
        connection.settings_dict.update(owner_credentials())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """...and the tests run as the runtime role (DATABASE_URL), as the portal does: appending to the audit trail
    and reading it is all they may do to it. The owner drops the database at the end."""
    from django.db import connection

    from portal.core.database_roles import owner_credentials, runtime_credentials

    if not owner_credentials():
        yield
        return
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(runtime_credentials())
        yield
        connection.close()
        connection.settings_dict.update(owner_credentials())


@pytest.fixture
def unique() -> str:
    """A short unique suffix, so tests sharing one broker or cluster never collide."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def kafka_connection():
    from topics.kafka.adapter import KafkaConnection

    return KafkaConnection.from_env(require_env("KAFKA_BOOTSTRAP", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"))


@pytest.fixture(scope="session")
def kafka_admin(kafka_connection):
    from topics.kafka.adapter import KafkaAdmin

    return KafkaAdmin(kafka_connection)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_env("REDIS_URL")["REDIS_URL"]


@pytest.fixture
def world(db):
    """Teams payments and checkout, one person per role, a service account with a token, two namespaces.
    Namespaces are plain rows (no topic, no broker): tests that need the broker register their own."""
    from tests.factories import build_world

    return build_world()


@pytest.fixture
def pay(world, unique):
    """A namespace of team payments with its topic row on the default cluster (standard: 1 approval, 30 days).
    Registered in the test's transaction: its topic sync, enqueued on commit, never runs."""
    from portal.core.audit import SYSTEM
    from topics.catalogue import services as catalogue

    return catalogue.register_namespace(SYSTEM, name=f"pay-{unique}", owner_team=world.payments)


@pytest.fixture
def chk(world, unique):
    """A namespace of team checkout with its topic row (high sensitivity: 2 approvals, 14 days), and the two owners
    of checkout who may approve requests for it (olga, oscar)."""
    from portal.core.audit import SYSTEM
    from tests.factories import checkout_owners
    from topics.catalogue import services as catalogue

    checkout_owners()

    return catalogue.register_namespace(SYSTEM, name=f"chk-{unique}", owner_team=world.checkout, sensitivity="high")


@pytest.fixture
def cluster(world):
    """A second Kafka cluster, eu-prod, reached with the portal's own Kafka password (a row: no broker)."""
    from topics.models import KafkaCluster

    return KafkaCluster.objects.create(name="eu-prod", bootstrap="kafka-eu:9092", sasl_username="logwarden",
                                       sasl_password_ref="env:KAFKA_SASL_PASSWORD")


@pytest.fixture
def celery_eager():
    """Runs tasks in-process for the test (the code path is the same `.delay()` the worker would run)."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def kubeconfig() -> str:
    return require_env("LOGWARDEN_KUBECONFIG")["LOGWARDEN_KUBECONFIG"]


@pytest.fixture(scope="session")
def kube_cluster(kubeconfig):
    from shipper.kube.client import KubeCluster

    with KubeCluster.from_kubeconfig(kubeconfig) as cluster:
        yield cluster


@pytest.fixture
def pause_broker():
    """A context manager that freezes the real broker (SIGSTOP) and always thaws it (SIGCONT)."""
    import contextlib
    import signal
    from pathlib import Path

    pid = int(Path(require_env("LOGWARDEN_KAFKA_PID_FILE")["LOGWARDEN_KAFKA_PID_FILE"]).read_text())

    @contextlib.contextmanager
    def paused():
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    return paused


@pytest.fixture
def as_role(client, world):
    """Signs the test client in as one of the world's people (engineer, owner, auditor, admin, outsider)."""
    def sign_in(role: str):
        client.force_login(world.user_for(role))
        return client
    return sign_in


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counts and the anonymous health states live in the per-process cache: each test starts
    without its neighbours'."""
    from django.core.cache import cache

    cache.clear()
