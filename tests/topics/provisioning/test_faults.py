"""Faults on the way from a decision to the broker, each on servers of the test's own (a private broker started
through the harness under the profile `faults`, a private Redis started here), so stopping them hurts no other
test: a worker killed (SIGKILL) mid-reconcile, the broker stopped (SIGSTOP) during approvals and revocations,
Redis stopped while people approve, PostgreSQL dropping a request's connection (pg_terminate_backend).

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
from django.db.models.signals import pre_save
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
    kafka = service("kafka", "faults")
    env = kafka.start()
    yield SimpleNamespace(env=env, pid=int(Path(env["LOGWARDEN_KAFKA_PID_FILE"]).read_text()))
    kafka.stop()


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
    os.kill(broker.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(broker.pid, signal.SIGCONT)


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


def test_the_broker_stopped_during_approvals_and_revocations_converges_once_it_is_back(faults, world, unique, client):
    kept, lost = _namespace(world, f"keep-{unique}"), _namespace(world, f"lose-{unique}")
    with real_worker():
        revoked = access.grant_directly(world.admin, principal=principal_for(world.outsider),
                                        topic=lost.topics.get(), days=3, reason="incident")
        _converged(faults.cluster)
        request = ask(world, kept)
        with frozen(faults.broker):
            client.force_login(world.owner)
            approved = client.post(f"/access/approvals/{request.items.get().pk}/",
                                   {"decision": "approve", "comment": "go"})
            client.force_login(world.admin)
            ended = client.post(f"/access/grants/{revoked.pk}/revoke/", {"reason": "over"})
            eventually(lambda: ReconcileRun.objects.filter(cluster=faults.cluster, succeeded=False).exists(), bool,
                       "no run failed on the stopped broker", seconds=30)
        assert (approved.status_code, ended.status_code) == (302, 302)
        assert _due(faults.cluster).exists()

        app.signature("topics.drain_broker_changes").delay()  # what beat sends every LOGWARDEN_DRAIN_SECONDS
        _converged(faults.cluster)
    assert Grant.objects.get(pk=revoked.pk).state == GrantState.REVOKED
    assert Grant.objects.filter(request_item__request=request, state=GrantState.ACTIVE).exists()
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


def test_a_dropped_database_connection_mid_request_loses_nothing_half_done(faults, world, unique):
    namespace = _namespace(world, f"pg-{unique}")
    request = ask(world, namespace)
    item = request.items.get()
    before = AuditEvent.objects.count()
    db = connection.settings_dict

    def drop_the_connection(sender, instance, **kwargs):
        with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                             dbname=db["NAME"], autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])

    owner = Client(raise_request_exception=False)
    owner.force_login(world.owner)
    pre_save.connect(drop_the_connection, sender=Approval)
    try:
        dropped = owner.post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "go"})
    finally:
        pre_save.disconnect(drop_the_connection, sender=Approval)

    assert dropped.status_code == 500 and b"Traceback" not in dropped.content  # the plain error page
    assert not Approval.objects.filter(item=item).exists()  # all or nothing: no decision without its audit
    assert AuditEvent.objects.count() == before and not Grant.objects.filter(request_item=item).exists()

    again = owner.post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "go"})
    assert again.status_code == 302
    with real_worker():
        _converged(faults.cluster)
    assert Grant.objects.filter(request_item=item, state=GrantState.ACTIVE).exists()
