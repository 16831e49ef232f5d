"""Shared fixtures. The real servers are started once per run by `make test`
(python -m portal.devservices run --profile test -- pytest …), which exports where they are.
A test that needs a server and does not find it fails: it never skips."""
from __future__ import annotations

import os
import uuid

import pytest


def require_env(*names: str) -> dict[str, str]:
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run the suite with `make test`, which starts the real "
                    f"servers and exports where they are", pytrace=False)
    return {name: os.environ[name] for name in names}


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


CHROMIUM = "/usr/bin/chromium"  # Debian's; never `playwright install`
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page(catalogue):
    """A Chromium page. Playwright's sync API keeps an asyncio loop running in this thread, and inside it
    Django would open a second, never-closed database connection (and refuse ORM calls as async-unsafe):
    so the rows are all written first (by `catalogue`) and the test body makes no ORM call."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def as_role(client, world):
    """Signs the test client in as one of the world's people (engineer, owner, auditor, admin, outsider)."""
    def sign_in(role: str):
        client.force_login(world.user_for(role))
        return client
    return sign_in


def create_acls_visibly(admin, bindings) -> None:
    """Creates ACLs out of band and waits until the broker shows them (its authorizer applies a write a moment
    after the controller acknowledges it), so what a test reconciles next really sees them."""
    import time

    admin.create_acls(bindings)
    deadline = time.monotonic() + 10
    while not set(bindings) <= set(admin.describe_acls()):
        assert time.monotonic() < deadline, "the broker did not show the new ACLs within 10 s"
        time.sleep(0.1)
