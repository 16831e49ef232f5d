"""The reconciler: the one path by which Logwarden changes a Kafka cluster.

observe (describe ACLs, the SCRAM users it knows by name, topics) → plan (pure: topics.provisioning.planner)
→ act (batched adapter calls, deletes first) → record (ownership, one audit event per broker change, the
ReconcileRun). Level-triggered and idempotent: a change enqueues a run after its transaction commits, a
periodic run repairs whatever was missed, and runs of one cluster are serialised by a database lock, so a lost
or doubled trigger only delays or repeats convergence. Each item's outcome is its own: a refused binding or
user is recorded on the run ("partial") and blocks nothing else — revocations, expiries and disabled accounts go
first — and is retried with a per-item backoff (topics.provisioning.backoff): runs hold it back until its retry
time, when a run is due for it (an outbox change of trigger "retry"); a run whose only leftovers are such
held-back items says "waiting", not "partial".
"""
from __future__ import annotations

import gc
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from portal.core import audit, locks
from topics import queue
from topics.catalogue.clusters import admin_for
from topics.kafka.adapter import KafkaAdmin
from topics.kafka.errors import KafkaAdapterError, KafkaUnavailable
from topics.kafka.types import AclBinding, BatchResult, ScramUpsert
from topics.models import (BrokerChange, CredentialHandoff, CredentialState, Grant, GrantState, KafkaCluster,
                           KafkaCredential, QueuedReconcile, ReconcileRetry, ReconcileRun, RunStatus,
                           SystemCredentialSecret)
from topics.provisioning import backoff, handoff, ownership, system_principals
from topics.provisioning.desired import desired_state
from topics.provisioning.planner import ActualState, DesiredState, Owned, Plan, describe_acl, plan
from topics.provisioning.topic_sync import SyncReport, sync_cluster_topics

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (step, done, total)
CHUNK = 1000
_TOPIC_SYNC = "topic.sync"  # a topic's own item on the run and in the backoff: its name the item
T = TypeVar("T")


@dataclass
class Outcome:
    cluster: KafkaCluster
    plan: Plan
    topics: SyncReport | None
    run: ReconcileRun | None  # None for a dry run
    seconds: float


@contextmanager
def cluster_lock(cluster: KafkaCluster, *, wait: bool = True) -> Iterator[bool]:
    """Serialises reconciles of one cluster across workers and processes (portal.core.locks: PostgreSQL or
    SQLite). Yields whether it is held: with `wait=False`, False when another run holds it."""
    with locks.held(locks.LockSpace.KAFKA_CLUSTER, cluster.pk, wait=wait) as got:
        yield got


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a run reads and compares its states: tens of thousands of
    bindings (tuples, which make no cycles) from the database and the broker, every few hundred of which set off
    a collection walking all the others: a third of a no-op run's time (10,000 grants) went to collections that
    found nothing. What the run leaves is freed by reference counting; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_collector_paused()
def _observe_and_plan(admin: KafkaAdmin, cluster: KafkaCluster, now, timings: _Stopwatch | None = None,
                      meanwhile: Callable[[], T] = lambda: None) -> tuple[Plan, Owned, T]:
    """The plan, what a first run adopts (empty once adopted: see topics.provisioning.ownership), and what
    `meanwhile` returned. The broker's reads go out before they are needed and are answered while the database
    is read and `meanwhile` (the run's topic sync) runs: the ACL describe first, the SCRAM users' as soon as
    their names are known. Nothing but this run (it holds the cluster's lock) changes the bindings and users
    Logwarden manages in the meantime, and the topic sync changes neither."""
    timings = timings or _Stopwatch()
    with timings("desired"):
        described_acls = admin.send_describe_acls()
        desired: DesiredState = desired_state(cluster, now)
        owned = ownership.owned_by(cluster)
        candidates = ownership.adoption_candidates(cluster) if cluster.ownership_adopted_at is None else Owned()
        described_users = admin.send_describe_scram_users(
            owned.users | candidates.users | desired.users | desired.new_users)
    with timings("topics"):
        done_meanwhile = meanwhile()
    with timings("observe"):
        actual = ActualState(acls=frozenset(described_acls()), users=frozenset(described_users()))
        adopted = Owned(candidates.acls & actual.acls, candidates.users & actual.users)
        the_plan = plan(desired, actual, owned | adopted, enforce=cluster.enforce_acls,
                        allowlist=cluster.read_allowlisted)
    return the_plan, adopted, done_meanwhile


def _adopt(cluster: KafkaCluster, adopted: Owned, now) -> None:
    with transaction.atomic():
        ownership.record(cluster, acls=adopted.acls, users=adopted.users)
        KafkaCluster.objects.filter(pk=cluster.pk).update(ownership_adopted_at=now)
        cluster.ownership_adopted_at = now
        audit.record(audit.SYSTEM, "cluster.adopt_ownership", cluster, acls=len(adopted.acls),
                     scram_users=len(adopted.users))


def expire_due(cluster: KafkaCluster, now) -> int:
    """Ends grants whose time is up, credentials whose overlap window closed and those of system principals whose
    role is no longer registered; each is audited."""
    entries = []
    with transaction.atomic():
        grants = list(Grant.objects.select_for_update().filter(topic__cluster=cluster, state=GrantState.ACTIVE,
                                                                valid_until__lte=now)
                      .select_related("principal", "topic"))
        Grant.objects.filter(pk__in=[g.pk for g in grants]).update(state=GrantState.EXPIRED, ended_at=now)
        entries += [audit.Entry("grant.expire", "topics.grant", str(g.pk), str(g),
                                {"principal": g.principal.name, "topic": g.topic.name,
                                 "valid_until": g.valid_until.isoformat(), "ended_at": now.isoformat()})
                    for g in grants]
        retired = list(KafkaCredential.objects.select_for_update().filter(
            cluster=cluster, state=CredentialState.RETIRING, retire_at__lte=now).select_related("principal"))
        KafkaCredential.objects.filter(pk__in=[c.pk for c in retired]).update(state=CredentialState.REMOVED,
                                                                            removed_at=now)
        CredentialHandoff.objects.filter(credential__in=retired).delete()
        SystemCredentialSecret.objects.filter(credential__in=retired).delete()
        entries += [audit.Entry("credential.remove", "topics.kafkacredential", str(c.pk), c.username,
                                {"reason": "overlap window closed", "cluster": cluster.name}) for c in retired]
        entries += system_principals.retire_unregistered(cluster, now)
        audit.record_many(audit.SYSTEM, entries)
    return len(entries)


def reconcile(cluster: KafkaCluster, *, trigger: str = "manual", dry_run: bool = False,
              progress: Progress | None = None) -> Outcome:
    """One run of the cluster, waiting for the one in progress, if any, to end first."""
    with cluster_lock(cluster):
        return _reconcile_held(cluster, trigger=trigger, dry_run=dry_run, progress=progress)


def reconcile_queued(cluster: KafkaCluster, *, trigger: str = "change", full: bool = False) -> Outcome | None:
    """The run a worker makes for the queue (topics.queue): only when changes are due in the outbox (or `full`,
    the periodic pass), and never waiting for the cluster's lock. A run that cannot take it leaves the changes
    to the run holding it, which looks at the outbox again once it has let go of the lock and runs once more for
    what came in meanwhile, and queues itself again a moment later (topics.queue.send_again) for a holder that
    will not: a manual reconcile, or a run that fails. None when nothing was due or another run holds the
    cluster."""
    QueuedReconcile.objects.filter(cluster=cluster).delete()  # from now on, a new change queues another run
    outcome = None
    while full or _due_changes(cluster, timezone.now()).exists():
        with cluster_lock(cluster, wait=False) as got:
            if not got:
                queue.send_again(cluster.pk)
                return outcome
            outcome = _reconcile_held(cluster, trigger=trigger if full else None)
        if not outcome.run.succeeded:  # what failed stays due: the drain and the periodic pass retry it
            return outcome
        full = False
    return outcome


def _due_changes(cluster: KafkaCluster, now):
    return BrokerChange.objects.filter(cluster=cluster, done_at__isnull=True, due_at__lte=now)


def _reconcile_held(cluster: KafkaCluster, *, trigger: str | None, dry_run: bool = False,
                    progress: Progress | None = None) -> Outcome:
    """One run, the cluster's lock held. `trigger` None: the run says what asked for it, the trigger the changes it
    carries share ("manual", "expiry"), or "change" when they differ."""
    began = time.monotonic()
    now = timezone.now()
    if dry_run:
        the_plan, _, _ = _observe_and_plan(admin_for(cluster), cluster, now)
        return Outcome(cluster, the_plan, None, None, time.monotonic() - began)
    # a run still open while this one holds the lock died with its process (a worker killed mid-run)
    ReconcileRun.objects.filter(cluster=cluster, finished_at__isnull=True).update(
        succeeded=False, status=RunStatus.FAILED, finished_at=now,
        error="interrupted: the process running it stopped before it ended")
    # the changes this run carries to the broker: those committed before it reads the desired state
    claimed = dict(_due_changes(cluster, now).values_list("pk", "trigger"))
    if trigger is None:
        shared = set(claimed.values())
        trigger = shared.pop() if len(shared) == 1 else "change"
    expire_due(cluster, now)
    run = ReconcileRun.objects.create(cluster=cluster, trigger=trigger, started_at=now)
    timings = _Stopwatch()
    try:
        admin = admin_for(cluster)
        listed = admin.send_list_topics()  # answered while the database is read, as the describes are
        held = backoff.held(cluster, now)
        the_plan, adopted, (topics, topic_failures) = _observe_and_plan(
            admin, cluster, now, timings, meanwhile=lambda: _sync_topics(cluster, admin, listed, held))
        if cluster.ownership_adopted_at is None:
            _adopt(cluster, adopted, now)
        with timings("act"):
            applied = _act(admin, cluster, the_plan, run, progress or _quiet, held=held)
        applied.failures[:0] = topic_failures
        applied.held.update({key: row for key, row in held.items() if key[0] == _TOPIC_SYNC})
        with timings("settle"):
            _await_visible(admin, applied)
    except Exception as exc:  # every run ends recorded, whatever stopped it; the caller still sees why
        run.succeeded, run.status = False, RunStatus.FAILED
        run.error, run.finished_at = str(exc) or type(exc).__name__, timezone.now()
        run.save(update_fields=["succeeded", "status", "error", "finished_at"])
        raise
    backoff.settle(cluster, applied.failures, applied.held, now)
    failures = applied.failures + [backoff.as_failure(row) for row in applied.held.values()]
    run.succeeded, run.finished_at = not failures, timezone.now()
    run.status = _status(failures)
    run.failures = failures
    run.counts = {**the_plan.summary(), "failed": len(applied.failures), "held_back": len(applied.held),
                  "topics_created": len(topics.created),
                  "topics_reconfigured": len(topics.reconfigured), "seconds": timings.seconds}
    run.drift = {"foreign_acls": [describe_acl(b) for b in the_plan.drift_acls[:500]],
                 "foreign_acls_total": len(the_plan.drift_acls),
                 "unmanaged_acls": [describe_acl(b) for b in the_plan.unmanaged_acls[:500]],
                 "unknown_users": list(the_plan.unknown_users[:500]),
                 "missing_users": list(the_plan.missing_users), "enforced": the_plan.enforce}
    run.save(update_fields=["succeeded", "status", "failures", "finished_at", "counts", "drift"])
    # every item left over has its retry time: the changes are carried as far as they go now, and one change
    # due then brings the run that retries (without it, every drain would send a run for them)
    retry_at = [failure.get("retry_at") for failure in failures]
    if run.succeeded or all(retry_at):
        BrokerChange.objects.filter(pk__in=list(claimed)).update(done_at=run.finished_at, done_by=run)
    if failures and all(retry_at):
        _retry_at(cluster, datetime.fromisoformat(min(retry_at)))
    return Outcome(cluster, the_plan, topics, run, time.monotonic() - began)


def _status(failures: Sequence[dict]) -> RunStatus:
    """Succeeded with nothing left over, waiting when all that is left are items held back until their retry
    time (this run was refused nothing), partial when the broker refused something now."""
    if not failures:
        return RunStatus.SUCCEEDED
    return RunStatus.WAITING if all(failure.get("held") for failure in failures) else RunStatus.PARTIAL


def _retry_at(cluster: KafkaCluster, when: datetime) -> None:
    """A run of the cluster at `when`, unless a pending change brings one by then."""
    if not BrokerChange.objects.filter(cluster=cluster, done_at__isnull=True, due_at__lte=when).exists():
        queue.reconcile_at(cluster.pk, when, trigger="retry")


def _sync_topics(cluster: KafkaCluster, admin: KafkaAdmin, listed: Callable[[], dict[str, int]],
                 held: dict[backoff.Key, ReconcileRetry]) -> tuple[SyncReport, list[dict[str, str]]]:
    """Topics first, but a topic the broker refuses (recorded on the topic itself, and retried with a backoff
    of its own like any item) must not hold back the ACL changes: access to be taken away does not wait for a
    topic to be created. Topics waiting for their retry time are left alone. An unreachable broker still ends
    the run."""
    waiting = [item for action, item in held if action == _TOPIC_SYNC]
    try:
        report = sync_cluster_topics(cluster, admin, listed=listed, held=waiting)
    except KafkaUnavailable:
        raise
    except KafkaAdapterError as exc:
        return SyncReport(), [{"action": "topic.sync_cluster", "item": cluster.name, "error": str(exc)}]
    return report, [{"action": _TOPIC_SYNC, "item": topic, "error": error} for topic, error in report.failed.items()]


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


@dataclass
class _Applied:
    """What the act phase got onto the broker, and what the broker refused (as recorded on the run)."""

    created_acls: list[AclBinding] = field(default_factory=list)
    deleted_acls: list[AclBinding] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    # items waiting for their retry time (topics.provisioning.backoff): those of this plan are not tried
    waiting: dict[backoff.Key, ReconcileRetry] = field(default_factory=dict)
    held: dict[backoff.Key, ReconcileRetry] = field(default_factory=dict)

    def due(self, action: str, items: Sequence, describe: Callable) -> list:
        """The items to try now; the others are held back."""
        if not self.waiting:
            return list(items)
        keys = {item: (action, describe(item)) for item in items}
        self.held.update({key: self.waiting[key] for key in keys.values() if key in self.waiting})
        return [item for item, key in keys.items() if key not in self.waiting]

    def refused(self, action: str, result: BatchResult, describe: Callable = str) -> None:
        self.failures += [{"action": action, "item": describe(item), "error": error}
                          for item, error in result.failed.items()]


def _await_visible(admin: KafkaAdmin, applied: _Applied) -> None:
    """Waits until the broker answers with the ACLs just written: its authorizer applies the controller's
    records a moment after CreateAcls/DeleteAcls return, and the next run must not see stale bindings. Tens of
    thousands take the broker longer than one timeout, so it waits while each look shows more of them, and
    gives up only after a timeout without progress."""
    if not (applied.created_acls or applied.deleted_acls):
        return
    created, deleted = set(applied.created_acls), set(applied.deleted_acls)
    pending = len(created) + len(deleted)
    deadline = time.monotonic() + admin.timeout
    while True:
        actual = set(admin.describe_acls())
        still = len(created - actual) + len(deleted & actual)
        if not still:
            return
        if still < pending:
            pending, deadline = still, time.monotonic() + admin.timeout
        elif time.monotonic() > deadline:
            raise KafkaAdapterError(f"the broker at {admin.connection.bootstrap} did not show {still} of the ACLs "
                                    f"written within {admin.timeout:.0f}s")
        time.sleep(0.2)


def _act(admin: KafkaAdmin, cluster: KafkaCluster, the_plan: Plan, run: ReconcileRun,
         progress: Progress, *, held: dict[backoff.Key, ReconcileRetry]) -> _Applied:
    """Deletes first, so that nothing refused on the way in can hold access that is being taken away. Each
    chunk's confirmed changes are recorded and audited right after its call, before the next chunk goes out.
    Items waiting for their retry time (`held`) are left out."""
    context = {"cluster": cluster.name, "reconcile_run": run.pk}
    applied = _Applied(waiting=held)
    with transaction.atomic():
        ownership.record(cluster, acls=the_plan.claim_acls, users=the_plan.claim_users)
        ownership.forget(cluster, acls=the_plan.forget_acls, users=the_plan.forget_users)
    foreign = set(the_plan.drift_acls)
    applied.deleted_acls += _apply(
        _Change("acl.delete", "kafka.acl", "delete acls", admin.delete_acls,
                lambda done: ownership.forget(cluster, acls=done),
                lambda binding: {**context, "foreign": binding in foreign}, describe_acl),
        the_plan.delete_acls, applied, progress)
    _apply(_Change("scram_user.delete", "kafka.scram_user", "delete users", admin.delete_scram_credentials,
                   lambda done: ownership.forget(cluster, users=done), lambda _: context),
           the_plan.delete_users, applied, progress)
    if the_plan.create_users:
        _create_users(admin, cluster, the_plan.create_users, context, applied, progress)
    applied.created_acls += _apply(
        _Change("acl.create", "kafka.acl", "create acls", admin.create_acls,
                lambda done: ownership.record(cluster, acls=done), lambda _: context, describe_acl),
        the_plan.create_acls, applied, progress)
    return applied


@dataclass(frozen=True)
class _Change:
    """One kind of broker change as the act phase applies it: the batched adapter call, what the broker's
    confirmation records in the database, and the audit event of each confirmed item."""

    action: str  # the audit action, also naming refused items on the run
    object_type: str
    step: str  # the progress label
    call: Callable[[Sequence], BatchResult]
    confirm: Callable[[Sequence], None]
    payload: Callable[[object], dict]
    describe: Callable = str


def _apply(change: _Change, items: Sequence, applied: _Applied, progress: Progress) -> list:
    """Applies `items` chunk by chunk; each chunk's confirmed items are recorded and audited in one transaction
    right after its call, its refused ones are kept on `applied`. Returns the confirmed items."""
    confirmed: list = []
    items = applied.due(change.action, items, change.describe)
    for done, chunk in _chunks(items):
        result = change.call(chunk)
        with transaction.atomic():
            change.confirm(result.done)
            audit.record_many(audit.SYSTEM, [
                audit.Entry(change.action, change.object_type, change.describe(item), change.describe(item),
                            change.payload(item)) for item in result.done])
        confirmed += result.done
        applied.refused(change.action, result, change.describe)
        progress(change.step, done, len(items))
    return confirmed


def _create_users(admin: KafkaAdmin, cluster: KafkaCluster, usernames: Sequence[str], context: dict,
                  applied: _Applied, progress: Progress) -> None:
    """Generates each password here, sets it on the broker, then leaves it in the one-time hand-off (a system
    principal's: kept for Logwarden's own use, topics.provisioning.system_principals). A user the broker refused
    stays pending and gets a new password next run."""
    pending = {c.username: c for c in KafkaCredential.objects.filter(
        cluster=cluster, state=CredentialState.PENDING).select_related("principal")}
    passwords: dict[str, str] = {}  # the current chunk's, between its call and its confirmation

    def upsert(chunk: Sequence[str]) -> BatchResult:
        passwords.clear()
        passwords.update({username: secrets.token_urlsafe(32) for username in chunk})
        return admin.upsert_scram_credentials([ScramUpsert(u, p) for u, p in passwords.items()])

    def confirm(done: Sequence[str]) -> None:
        created = {pending[username]: passwords[username] for username in done}
        handoff.leave({c: password for c, password in created.items() if not c.principal.is_system})
        system_principals.keep({c: password for c, password in created.items() if c.principal.is_system})
        KafkaCredential.objects.filter(pk__in=[pending[u].pk for u in done]).update(
            state=CredentialState.ACTIVE, activated_at=timezone.now())
        ownership.record(cluster, users=done)

    _apply(_Change("scram_user.create", "kafka.scram_user", "create users", upsert, confirm,
                   lambda _: {**context, "mechanism": "SCRAM-SHA-512"}),
           usernames, applied, progress)


def _chunks(items: Sequence) -> Iterator[tuple[int, Sequence]]:
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK]
        yield start + len(chunk), chunk


def _quiet(step: str, done: int, total: int) -> None:
    log.debug("reconcile %s: %d/%d", step, done, total)
