"""The reconciler: the one path by which Logwarden changes a Kafka cluster.

observe (describe ACLs, SCRAM users, topics) → plan (pure: topics.provisioning.planner) → act (batched adapter
calls) → record (ReconcileRun, one audit event per broker change). Level-triggered and idempotent: a change
enqueues a run after its transaction commits, a periodic run repairs whatever was missed, and runs of one
cluster are serialised by a database lock, so a lost or doubled trigger only delays or repeats convergence.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from portal.core import audit
from topics.catalogue.clusters import admin_for
from topics.kafka.adapter import KafkaAdmin
from topics.kafka.errors import KafkaAdapterError
from topics.kafka.types import ScramUpsert
from topics.models import (CredentialHandoff, CredentialState, Grant, GrantState, KafkaCluster, KafkaCredential,
                           ReconcileRun)
from topics.provisioning import handoff
from topics.provisioning.desired import desired_state
from topics.provisioning.planner import ActualState, Plan, describe_acl, plan
from topics.provisioning.topic_sync import SyncReport, sync_cluster_topics

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (step, done, total)
CHUNK = 1000
_LOCK_BASE = 0x4C57_0000


@dataclass
class Outcome:
    cluster: KafkaCluster
    plan: Plan
    topics: SyncReport | None
    run: ReconcileRun | None  # None for a dry run
    seconds: float


@contextmanager
def cluster_lock(cluster: KafkaCluster) -> Iterator[None]:
    """Serialises reconciles of one cluster across workers (PostgreSQL advisory lock)."""
    if connection.vendor != "postgresql":
        yield  # SQLite (the embedded default) has one worker
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_BASE + cluster.pk])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_BASE + cluster.pk])


def observe(admin: KafkaAdmin) -> ActualState:
    return ActualState(acls=frozenset(admin.describe_acls()), users=frozenset(admin.list_scram_users()))


def expire_due(cluster: KafkaCluster, now) -> int:
    """Ends grants whose time is up and credentials whose overlap window closed; each is audited."""
    entries = []
    with transaction.atomic():
        grants = list(Grant.objects.select_for_update().filter(topic__cluster=cluster, state=GrantState.ACTIVE,
                                                                valid_until__lte=now)
                      .select_related("principal", "topic"))
        Grant.objects.filter(pk__in=[g.pk for g in grants]).update(state=GrantState.EXPIRED, ended_at=now)
        entries += [audit.Entry("grant.expire", "topics.grant", str(g.pk), str(g),
                                {"principal": g.principal.name, "topic": g.topic.name,
                                 "valid_until": g.valid_until.isoformat()}) for g in grants]
        retired = list(KafkaCredential.objects.select_for_update().filter(
            cluster=cluster, state=CredentialState.RETIRING, retire_at__lte=now).select_related("principal"))
        KafkaCredential.objects.filter(pk__in=[c.pk for c in retired]).update(state=CredentialState.REMOVED,
                                                                            removed_at=now)
        CredentialHandoff.objects.filter(credential__in=retired).delete()
        entries += [audit.Entry("credential.remove", "topics.kafkacredential", str(c.pk), c.username,
                                {"reason": "overlap window closed", "cluster": cluster.name}) for c in retired]
        audit.record_many(audit.SYSTEM, entries)
    return len(entries)


def reconcile(cluster: KafkaCluster, *, trigger: str = "manual", dry_run: bool = False,
              progress: Progress | None = None) -> Outcome:
    began = time.monotonic()
    with cluster_lock(cluster):
        now = timezone.now()
        if dry_run:
            admin = admin_for(cluster)
            the_plan = plan(desired_state(cluster, now), observe(admin), enforce=cluster.enforce_acls)
            return Outcome(cluster, the_plan, None, None, time.monotonic() - began)
        expire_due(cluster, now)
        run = ReconcileRun.objects.create(cluster=cluster, trigger=trigger, started_at=now)
        timings = _Stopwatch()
        try:
            admin = admin_for(cluster)
            with timings("topics"):
                topics = sync_cluster_topics(cluster, admin)
            with timings("observe"):
                desired, actual = desired_state(cluster, now), observe(admin)
            the_plan = plan(desired, actual, enforce=cluster.enforce_acls)
            with timings("act"):
                _act(admin, cluster, the_plan, run, progress or _quiet)
            with timings("settle"):
                _await_visible(admin, the_plan)
        except Exception as exc:  # every run ends recorded, whatever stopped it; the caller still sees why
            run.succeeded, run.error, run.finished_at = False, str(exc) or type(exc).__name__, timezone.now()
            run.save(update_fields=["succeeded", "error", "finished_at"])
            raise
        run.succeeded, run.finished_at = True, timezone.now()
        run.counts = {**the_plan.summary(), "topics_created": len(topics.created),
                      "topics_reconfigured": len(topics.reconfigured), "seconds": timings.seconds}
        run.drift = {"foreign_acls": [describe_acl(b) for b in the_plan.drift_acls[:500]],
                     "foreign_acls_total": len(the_plan.drift_acls),
                     "unmanaged_acls": [describe_acl(b) for b in the_plan.unmanaged_acls[:500]],
                     "missing_users": list(the_plan.missing_users), "enforced": the_plan.enforce}
        run.save(update_fields=["succeeded", "finished_at", "counts", "drift"])
        return Outcome(cluster, the_plan, topics, run, time.monotonic() - began)


class _Stopwatch:
    """Seconds spent per phase of a run, kept with the run for operators."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self.seconds[phase] = round(time.monotonic() - began, 3)


def _await_visible(admin: KafkaAdmin, the_plan: Plan) -> None:
    """Waits until the broker answers with the ACLs just written: its authorizer applies the controller's
    records a moment after CreateAcls/DeleteAcls return, and the next run must not see stale bindings."""
    if not (the_plan.create_acls or the_plan.delete_acls):
        return
    created, deleted = set(the_plan.create_acls), set(the_plan.delete_acls)
    deadline = time.monotonic() + admin.timeout
    while True:
        actual = set(admin.describe_acls())
        if created <= actual and not deleted & actual:
            return
        if time.monotonic() > deadline:
            raise KafkaAdapterError(f"the broker at {admin.connection.bootstrap} did not show the ACLs written "
                                    f"within {admin.timeout:.0f}s")
        time.sleep(0.2)


def _act(admin: KafkaAdmin, cluster: KafkaCluster, the_plan: Plan, run: ReconcileRun, progress: Progress) -> None:
    context = {"cluster": cluster.name, "reconcile_run": run.pk}
    foreign = set(the_plan.drift_acls)
    if the_plan.create_users:
        _create_users(admin, cluster, the_plan.create_users, context, progress)
    for step, bindings, call in (("create acls", the_plan.create_acls, admin.create_acls),
                                 ("delete acls", the_plan.delete_acls, admin.delete_acls)):
        for done, chunk in _chunks(bindings):
            call(chunk)
            action = "acl.create" if step == "create acls" else "acl.delete"
            audit.record_many(audit.SYSTEM, [
                audit.Entry(action, "kafka.acl", describe_acl(b), describe_acl(b),
                            {**context, "foreign": b in foreign}) for b in chunk])
            progress(step, done, len(bindings))
    if the_plan.delete_users:
        admin.delete_scram_credentials(list(the_plan.delete_users))
        audit.record_many(audit.SYSTEM, [audit.Entry("scram_user.delete", "kafka.scram_user", u, u, context)
                                         for u in the_plan.delete_users])
        progress("delete users", len(the_plan.delete_users), len(the_plan.delete_users))


def _create_users(admin: KafkaAdmin, cluster: KafkaCluster, usernames: Sequence[str], context: dict,
                  progress: Progress) -> None:
    """Generates each password here, sets it on the broker, then leaves it in the one-time hand-off."""
    pending = {c.username: c for c in KafkaCredential.objects.filter(
        cluster=cluster, state=CredentialState.PENDING).select_related("principal")}
    for done, chunk in _chunks(usernames):
        passwords = {username: secrets.token_urlsafe(32) for username in chunk}
        admin.upsert_scram_credentials([ScramUpsert(u, p) for u, p in passwords.items()])
        with transaction.atomic():
            handoff.leave({pending[username]: password for username, password in passwords.items()})
            KafkaCredential.objects.filter(pk__in=[pending[u].pk for u in chunk]).update(
                state=CredentialState.ACTIVE, activated_at=timezone.now())
            audit.record_many(audit.SYSTEM, [audit.Entry("scram_user.create", "kafka.scram_user", u, u,
                                                         {**context, "mechanism": "SCRAM-SHA-512"}) for u in chunk])
        progress("create users", done, len(usernames))


def _chunks(items: Sequence) -> Iterator[tuple[int, Sequence]]:
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK]
        yield start + len(chunk), chunk


def _quiet(step: str, done: int, total: int) -> None:
    log.debug("reconcile %s: %d/%d", step, done, total)
