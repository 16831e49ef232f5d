"""Faults on the way from a decision to the broker, each on servers of the test's own (a private broker started
through the harness under the profile `faults`, a private Redis started here), so stopping them hurts no other
test: a worker killed (SIGKILL) mid-reconcile, the broker frozen (SIGSTOP) and the broker terminated and started
again on its data during approvals and revocations, Redis stopped while people approve, PostgreSQL dropping a
request's connection (pg_terminate_backend: a 503, never a 500).

Afterwards the broker equals the desired state (a dry run plans no write), every change left the outbox, and no
decision, grant, revocation or audit event is lost (the trail still verifies)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from portal.celery import app
from portal.core import audit
from portal.core.audit import SYSTEM
from portal.devservices import service
from portal.devservices.base import free_port
from portal.models import AuditEvent
from tests.factories import ask
from tests.helpers import ROOT, eventually, real_worker
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.models import (Approval, BrokerChange, Grant, GrantState, KafkaCluster, QueuedReconcile, ReconcileRun,
                           RunStatus)
from topics.provisioning.principals import principal_for
from topics.provisioning.reconciler import reconcile

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
PASSWORD_VARIABLE = "KAFKA_FAULTS_PASSWORD"


@pytest.fixture(scope="module")
def private_broker():
    """A broker of this module's own, fresh, whose data outlives a stop (so it can be started again on it)."""
    kafka = service("kafka", "faults", keep_data=True)
    kafka.discard_data()
    yield SimpleNamespace(service=kafka, env=kafka.start())
    kafka.discard_data()


class PrivateRedis:
    """A redis-server of this test's own, stopped and started again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port, self.process = directory, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eventually(self._answers, bool, "the private Redis did not answer")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False


@pytest.fixture
def faults(private_broker, tmp_path, settings, world, monkeypatch):
    """The world on the private broker (its default cluster) and Celery fed through the private Redis."""
    monkeypatch.setenv(PASSWORD_VARIABLE, private_broker.env["KAFKA_SASL_PASSWORD"])
    settings.KAFKA = {**settings.KAFKA, "timeout_seconds": 3}
    cluster = KafkaCluster.objects.create(name="faults", bootstrap=private_broker.env["KAFKA_BOOTSTRAP"],
                                          sasl_username=private_broker.env["KAFKA_SASL_USERNAME"],
                                          sasl_password_ref=f"env:{PASSWORD_VARIABLE}", is_default=True)
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    previous = app.conf.broker_url, app.conf.result_backend
    _feed_celery(redis_server.url, redis_server.url)
    try:
        yield SimpleNamespace(cluster=cluster, redis=redis_server, broker=private_broker)
    finally:
        _feed_celery(*previous)
        if redis_server.process.poll() is None:
            redis_server.stop()


def _feed_celery(broker_url: str, result_backend: str) -> None:
    app.conf.broker_url, app.conf.result_backend = broker_url, result_backend
    app._after_fork()  # drops the connection pools made for the previous broker
    vars(app._local).pop("backend", None)


@contextmanager
def frozen(broker):
    """The broker process paused (SIGSTOP): connections hang rather than fail."""
    pid = int(Path(broker.env["LOGWARDEN_KAFKA_PID_FILE"]).read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@contextmanager
def stopped(broker):
    """The broker process terminated (the harness's SIGTERM, SIGKILL after 15 s), then started again on the
    same data and port: connections are refused meanwhile."""
    broker.service.stop()
    try:
        yield
    finally:
        assert broker.service.start()["KAFKA_BOOTSTRAP"] == broker.env["KAFKA_BOOTSTRAP"]


def _due(cluster: KafkaCluster):
    """The changes due and not yet on the broker (the runs at the grants' ends are due later)."""
    return BrokerChange.objects.filter(cluster=cluster, done_at__isnull=True, due_at__lte=timezone.now())


def _converged(cluster: KafkaCluster) -> None:
    eventually(lambda: _due(cluster).count(), lambda pending: pending == 0, "the outbox did not drain", seconds=40)
    assert reconcile(cluster, dry_run=True).plan.writes == 0  # the broker is the desired state
    assert audit.verify_chain().intact


def _namespace(world, name: str):
    return catalogue.register_namespace(SYSTEM, name=name, owner_team=world.payments)


def _subprocess_worker(faults) -> subprocess.Popen:
    """`celery worker` as production runs it, on the test's database and the private Redis."""
    db = connection.settings_dict
    env = {**os.environ, "REDIS_URL": faults.redis.url, "KAFKA_TIMEOUT_SECONDS": "3",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo", "-l", "error",
                             "--without-gossip", "--without-mingle", "--without-heartbeat"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def restarted_worker(faults):
    """A worker started after the fault: the first thing it does is drain the outbox (worker_ready)."""
    worker = _subprocess_worker(faults)
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(30)


def test_a_worker_killed_mid_reconcile_loses_nothing(faults, world, unique):
    namespace = _namespace(world, f"kill-{unique}")
    request = ask(world, namespace)
    with frozen(faults.broker):
        worker = _subprocess_worker(faults)
        try:
            access.decide(world.owner, request.items.get(), "approve", "go")
            eventually(lambda: ReconcileRun.objects.filter(cluster=faults.cluster, finished_at__isnull=True).exists(),
                       bool, "the worker did not start a run", seconds=40)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)

    with restarted_worker(faults):
        _converged(faults.cluster)
    interrupted = ReconcileRun.objects.filter(cluster=faults.cluster, status=RunStatus.FAILED).first()
    assert interrupted is not None and "interrupted" in interrupted.error
    grant = Grant.objects.get(request_item__request=request)
    assert AuditEvent.objects.filter(action="grant.create", target_id=str(grant.pk)).exists()
    assert AuditEvent.objects.filter(action="acl.create", data__cluster="faults").exists()


@pytest.mark.parametrize("outage", [frozen, stopped], ids=["frozen", "terminated"])
def test_the_broker_out_during_approvals_and_revocations_converges_once_it_is_back(faults, world, unique, client,
                                                                                  outage):
    kept, lost, incident = (_namespace(world, f"{name}-{unique}") for name in ("keep", "lose", "incident"))
    erin = principal_for(world.outsider)
    with real_worker():
        revoked = access.grant_directly(world.admin, principal=erin, topic=lost.topics.get(), days=3,
                                        reason="incident")
        _converged(faults.cluster)
        request = ask(world, kept)
        with outage(faults.broker):
            client.force_login(world.owner)
            approved = client.post(f"/access/approvals/{request.items.get().pk}/",
                                   {"decision": "approve", "comment": "go"})
            client.force_login(world.admin)
            ended = client.post(f"/access/grants/{revoked.pk}/revoke/", {"reason": "over"})
            granted = client.post("/api/grants/", {"principal": erin.name, "topic": incident.topics.get().pk,
                                                   "days": 2, "reason": "incident"}, content_type="application/json")
            eventually(lambda: ReconcileRun.objects.filter(cluster=faults.cluster, succeeded=False).exists(), bool,
                       "no run failed on the stopped broker", seconds=30)
            while_stopped = client.get("/access/grants/").content.decode()
        assert (approved.status_code, ended.status_code, granted.status_code) == (302, 302, 201), granted.content
        assert while_stopped.count(">pending on the broker</span>") == 3  # the approval, the revoke, the grant
        assert _due(faults.cluster).exists()

        app.signature("topics.drain_broker_changes").delay()  # what beat sends every LOGWARDEN_DRAIN_SECONDS
        _converged(faults.cluster)
    assert ">pending on the broker</span>" not in client.get("/access/grants/").content.decode()
    assert Grant.objects.get(pk=revoked.pk).state == GrantState.REVOKED
    assert Grant.objects.filter(request_item__request=request, state=GrantState.ACTIVE).exists()
    assert Grant.objects.filter(principal=erin, topic=incident.topics.get(), state=GrantState.ACTIVE).exists()
    assert AuditEvent.objects.filter(action="grant.revoke", target_id=str(revoked.pk)).exists()


def test_redis_stopped_while_people_approve_answers_and_converges_after(faults, world, unique, client):
    namespace, other = _namespace(world, f"redis-{unique}"), _namespace(world, f"redis2-{unique}")
    request = ask(world, namespace)
    erin = principal_for(world.outsider)
    faults.redis.stop()

    client.force_login(world.owner)
    approved = client.post(f"/access/approvals/{request.items.get().pk}/", {"decision": "approve", "comment": "go"})
    client.force_login(world.admin)
    granted = client.post("/api/grants/", {"principal": erin.name, "topic": other.topics.get().pk, "days": 2,
                                           "reason": "incident"}, content_type="application/json")

    assert (approved.status_code, granted.status_code) == (302, 201), granted.content[:300]
    assert _due(faults.cluster).count() >= 2
    assert QueuedReconcile.objects.filter(cluster=faults.cluster).exists()  # its message died with Redis
    faults.redis.start()
    with restarted_worker(faults):
        _converged(faults.cluster)
    assert Grant.objects.filter(principal=erin, topic=other.topics.get(), state=GrantState.ACTIVE).exists()


@contextmanager
def connection_dropped_before(model, statement: str):
    """Terminates the portal's PostgreSQL backend (from a second connection) as the request is about to
    `statement` (INSERT INTO, UPDATE) `model`'s table, inside the request's transaction, as a PostgreSQL restart
    or a failover would. At the SQL, not at a model signal: bulk writes send none."""
    db, prefix = connection.settings_dict, f'{statement} "{model._meta.db_table}"'

    def drop_the_connection(execute, sql, params, many, context):
        if sql.startswith(prefix):
            with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                                 dbname=db["NAME"], autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(drop_the_connection):
        yield


def _kept(before: dict) -> None:
    """Every row and audit event committed before the fault is still there."""
    assert set(AuditEvent.objects.filter(pk__in=before["events"]).values_list("pk", flat=True)) == before["events"]
    assert dict(Grant.objects.filter(pk__in=before["grants"]).values_list("pk", "state")) == before["grants"]


def test_a_dropped_database_connection_mid_request_is_a_503_and_loses_nothing(faults, world, unique):
    namespace, incident = _namespace(world, f"pg-{unique}"), _namespace(world, f"pg2-{unique}")
    erin = principal_for(world.outsider)
    with real_worker():
        revoked = access.grant_directly(world.admin, principal=erin, topic=namespace.topics.get(), days=3,
                                        reason="incident")
        _converged(faults.cluster)
    item = ask(world, namespace).items.get()
    before = {"events": set(AuditEvent.objects.values_list("pk", flat=True)),
              "grants": dict(Grant.objects.values_list("pk", "state"))}
    owner, admin = Client(raise_request_exception=False), Client(raise_request_exception=False)
    owner.force_login(world.owner)
    admin.force_login(world.admin)
    grant_body = {"principal": erin.name, "topic": incident.topics.get().pk, "days": 2, "reason": "incident"}

    with connection_dropped_before(Approval, "INSERT INTO"):
        approval = owner.post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "go"})
    with connection_dropped_before(Grant, "UPDATE"):
        revocation = admin.post(f"/access/grants/{revoked.pk}/revoke/", {"reason": "over"})
    with connection_dropped_before(Grant, "INSERT INTO"):
        api_grant = admin.post("/api/grants/", grant_body, content_type="application/json")

    for response in (approval, revocation):
        assert response.status_code == 503 and response["Content-Type"].startswith("text/html")
        assert b"Traceback" not in response.content and b"connection was lost" in response.content
    assert api_grant.status_code == 503 and "connection was lost" in api_grant.json()["detail"]
    _kept(before)  # the three transactions rolled back whole: no decision, grant, revoke or audit half-done
    assert AuditEvent.objects.count() == len(before["events"]) and not Approval.objects.filter(item=item).exists()

    # the next requests connect afresh and succeed
    assert owner.post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "go"}).status_code == 302
    assert admin.post(f"/access/grants/{revoked.pk}/revoke/", {"reason": "over"}).status_code == 302
    assert admin.post("/api/grants/", grant_body, content_type="application/json").status_code == 201
    with real_worker():
        _converged(faults.cluster)
    assert Grant.objects.filter(request_item=item, state=GrantState.ACTIVE).exists()
    assert Grant.objects.get(pk=revoked.pk).state == GrantState.REVOKED
    assert Grant.objects.filter(principal=erin, topic=incident.topics.get(), state=GrantState.ACTIVE).exists()
    assert AuditEvent.objects.filter(action="grant.revoke", target_id=str(revoked.pk)).exists()
