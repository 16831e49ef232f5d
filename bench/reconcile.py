"""Benchmark of the reconciler against the real broker, in ratios to baselines measured in the same run.

    make bench [BENCH_ARGS="--scale 10000,30000 --changes 20"]
    (or: python -m portal.devservices run postgres redis kafka --profile bench -- \\
         .venv/bin/python bench/reconcile.py --flush-database [options, see --help])

It empties the database DATABASE_URL names (`manage.py flush`) between its parts, so it asks for
--flush-database and refuses, whatever the flag, when LOGWARDEN_ENV=production or the database is not on this
machine (a loopback address or a Unix socket): the throwaway PostgreSQL that `make bench` starts. Each part
(and each scale row) gets a new, empty broker: it restarts the profile's Kafka through the harness
(portal.devservices, which names the profile in LOGWARDEN_DEVSERVICES_PROFILE), so it refuses to run outside
`devservices run` or under a development profile, whose broker keeps its data. Restarting is what makes every
part start from the same state at a fixed cost: deleting the previous part's ACLs would cost the broker
bindings × filters (its controller matches each DeleteAcls filter against every binding it holds).

Machines differ (2.5x between these ones), so every target is a ratio to work measured in the same process on
the same broker:

- full reconcile of --grants grants over --topics topics from an empty broker ÷ the bare broker work of the
  same topics and bindings: the topics created in batches, the ACLs created in batches, and waiting until the
  broker shows them (target ≤ 1.3). Both run on a broker just started and set up alike (the principals' SCRAM
  users, created first and timed apart: librdkafka hashes every password with PBKDF2 client-side, a one-time
  cost per principal), so neither gains from the other's warming up the JVM or clearing up after it.
- the no-op reconcile that follows ÷ the bare reads it cannot do without: one describe of the ACLs, the SCRAM
  users and the topics, in flight at once as the reconcile sends them (target ≤ 1.2, and 0 broker writes).
- batched ACL creation ÷ one AdminClient call per binding (on --sample bindings, scaled; target ≥ 20x), both on
  the same bindings given to other principals, so nothing has to be deleted first.
- scale: the full reconcile of each --scale grant count (one principal and one topic per 10 grants) ÷ the first
  (target: ≤ 12x at 100,000 grants for 10x the first row's 10,000).
- change latency with real Celery workers (--workers processes, beat included): --changes approvals at once,
  from each decision until its principal's consumer reads the topic, then as many revocations until it is
  refused; p50 and p99 (target p99 ≤ 1 s). A probe is a fresh consumer, so the probe's own round trip on a
  principal that may read (printed) bounds the resolution.
- expiry lateness: --changes grants ending two drain periods and 5 s later (LOGWARDEN_DRAIN_SECONDS), made as the
  services make every grant (access.after_grants: the reconcile due at valid_until goes into the outbox, and the
  drain schedules it with a Celery eta), from valid_until until their consumer is refused (target ≤ 5 s).
"""
from __future__ import annotations

import argparse
import importlib
import ipaddress
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

from portal import devservices  # noqa: E402

django.setup()

from celery import current_app  # noqa: E402
from django.apps import apps as django_apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import GroupMapping, Role, Team  # noqa: E402
from portal.core.audit import SYSTEM  # noqa: E402
from portal.models import AuditEvent  # noqa: E402
from topics.access import services as access  # noqa: E402
from topics.catalogue import services as catalogue  # noqa: E402
from topics.catalogue.clusters import admin_for, default_cluster, drop_admins  # noqa: E402
from topics.kafka.adapter import KafkaAdmin, KafkaConnection, produce, read_records  # noqa: E402
from topics.kafka.errors import KafkaAdapterError  # noqa: E402
from topics.kafka.types import AclBinding, TopicSpec  # noqa: E402
from topics.models import (BrokerChange, Grant, GrantSource, GrantState, KafkaCredential,  # noqa: E402
                           KafkaPrincipal, Namespace, RetentionClass, Topic)
from topics.provisioning import credentials  # noqa: E402
from topics.provisioning.desired import desired_state  # noqa: E402
from topics.provisioning.principals import ensure_credential, principal_for  # noqa: E402
from topics.provisioning.reconciler import Outcome, reconcile  # noqa: E402
from topics.provisioning.topic_sync import specs_of  # noqa: E402

# data migrations whose rows every part needs again after a flush
DEFAULT_ROWS = ("topics.migrations.0002_default_retention_classes",
                "topics.migrations.0004_default_sensitivity_policies")
# between one holder's probes: each is a new consumer, hence a SCRAM login (PBKDF2 on both ends), and 50 holders
# probing back to back made logins the machine's main work, slowing the very runs being timed
PROBE_PAUSE = 0.1
TARGETS = {"full": 1.3, "noop": 1.2, "batched": 20.0, "scale_100k": 12.0, "p99": 1.0, "expiry": 5.0}


@dataclass
class Verdicts:
    """Each target's outcome, for the closing line and the exit status."""

    missed: list[str]

    def check(self, name: str, met: bool) -> str:
        if not met:
            self.missed.append(name)
        return "ok" if met else "MISSED"


def timed(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


# --- a clean slate between parts ---------------------------------------------------------------------------------

def fresh() -> KafkaAdmin:
    """An empty broker and an empty database for the next part; returns the admin of the new broker.

    The broker is started anew through the harness (its data is on tmpfs and made afresh at each start of a
    throwaway profile) instead of deleting what the part before made: Kafka's controller matches every
    DeleteAcls filter against every binding it holds, so clearing N bindings one filter each costs N × N (the
    30,000-grant row once died clearing the 21,000 ACLs of the row before), and that cost would be the
    benchmark's own, not the reconciler's."""
    broker = devservices.service("kafka", os.environ[devservices.PROFILE_VARIABLE])
    drop_admins()  # no client outlives the broker it talks to
    broker.stop()
    env = broker.start()
    os.environ.update(env)  # the cluster's password reference, and the latency part's workers
    settings.KAFKA.update(bootstrap=env["KAFKA_BOOTSTRAP"], sasl_username=env["KAFKA_SASL_USERNAME"],
                          sasl_password=env["KAFKA_SASL_PASSWORD"])
    call_command("flush", interactive=False, verbosity=0)
    for data_migration in DEFAULT_ROWS:  # the retention classes and sensitivity policies a flush removed
        importlib.import_module(data_migration).create(django_apps, None)
    return admin_for(default_cluster())


def build_principals(count: int, prefix: str) -> list[KafkaPrincipal]:
    """People with a pending credential each: the reconciler creates their SCRAM users."""
    cluster = default_cluster()
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"{prefix}{i:06d}") for i in range(count)], batch_size=5000)
    principals = KafkaPrincipal.objects.bulk_create(
        [KafkaPrincipal(user=user, name=f"u.{user.username}") for user in users], batch_size=5000)
    KafkaCredential.objects.bulk_create([KafkaCredential(principal=p, cluster=cluster, slot="a") for p in principals],
                                        batch_size=5000)
    return principals


def build_grants(principals: list[KafkaPrincipal], grants: int, topics: int, prefix: str) -> None:
    """`topics` namespaces with a topic each, and `grants` live grants spread over principals and topics (each
    principal's grants on distinct topics)."""
    cluster = default_cluster()
    retention = RetentionClass.objects.get(name="standard")
    namespaces = Namespace.objects.bulk_create(
        [Namespace(name=f"{prefix}-{i:05d}", retention_class=retention) for i in range(topics)], batch_size=5000)
    topic_rows = Topic.objects.bulk_create(
        [Topic(namespace=ns, cluster=cluster, name=cluster.topic_name_for(ns.name)) for ns in namespaces],
        batch_size=5000)
    now = timezone.now()
    per_principal = -(-grants // len(principals))
    Grant.objects.bulk_create([
        Grant(principal=principals[g // per_principal], topic=topic_rows[(g * 7919) % topics], valid_from=now,
              valid_until=now + timedelta(days=7), source=GrantSource.ADMIN, reason="benchmark")
        for g in range(grants)], batch_size=5000)


def populate(grants: int, topics: int, prefix: str) -> float:
    """Principals (one per 10 grants) with their SCRAM users, then the grants; returns the users' seconds."""
    build_principals(max(1, grants // 10), prefix)
    issued = reconcile(default_cluster(), trigger="bench")
    build_grants(list(KafkaPrincipal.objects.order_by("pk")), grants, topics, prefix)
    return issued.seconds


# --- 1. full and no-op reconcile against the bare broker work --------------------------------------------------

def bare_work(admin: KafkaAdmin, specs: Sequence[TopicSpec], bindings: Sequence[AclBinding]) -> float:
    """The broker work a full reconcile cannot do without, on a broker in the state the reconcile starts from:
    the same topics created in batches, the same ACLs created in batches, and waiting until the broker shows
    them."""
    wanted = set(bindings)

    def work() -> None:
        admin.ensure_topics(specs, verify_configs=())
        admin.create_acls(bindings)
        while not wanted <= set(admin.describe_acls()):
            time.sleep(0.2)

    return timed(work)


def bare_reads(admin: KafkaAdmin, usernames: Sequence[str]) -> float:
    """One describe of what a no-op reconcile must look at: the ACLs, the SCRAM users, the topics, all in flight
    at once as the reconcile has them (the topic listing while the describes are answered)."""

    def reads() -> None:
        acls, users = admin.send_describe_acls(), admin.send_describe_scram_users(usernames)
        admin.list_topics()
        acls(), users()

    return timed(reads)


def renamed(bindings: Sequence[AclBinding], prefix: str) -> list[AclBinding]:
    """The bindings for other principals (`User:<prefix><name>`): new to the broker, so nothing is deleted first."""
    return [b._replace(principal=f"User:{prefix}{b.principal.removeprefix('User:')}") for b in bindings]


def per_binding(admin: KafkaAdmin, bindings: Sequence[AclBinding], sample: int) -> float:
    """Seconds to create the bindings one AdminClient call each, measured on `sample` of them and scaled."""
    chosen = renamed(bindings[:sample], "single-")
    seconds = timed(lambda: [admin.create_acls([binding]) for binding in chosen])
    return seconds / len(chosen) * len(bindings)


def batched(admin: KafkaAdmin, bindings: Sequence[AclBinding]) -> float:
    chosen = renamed(bindings, "batched-")
    return timed(lambda: admin.create_acls(chosen))


def phases(outcome: Outcome) -> str:
    return " ".join(f"{phase} {seconds:.2f}" for phase, seconds in outcome.run.counts["seconds"].items())


def reconcile_ratios(args, verdicts: Verdicts) -> None:
    """The bare work on one new broker, the reconcile on another, each after the same set-up: the same JVM
    warmth, the same empty broker, the same topics and bindings."""
    fresh()
    setup = populate(args.grants, args.topics, "full")
    cluster = default_cluster()
    desired = desired_state(cluster, timezone.now())
    specs = list(specs_of(Topic.objects.all()).values())
    bare_seconds = bare_work(admin_for(cluster), specs, sorted(desired.acls))
    admin = fresh()
    populate(args.grants, args.topics, "full")
    cluster = default_cluster()
    full = reconcile(cluster, trigger="bench")
    noop = reconcile(cluster, trigger="bench")
    reads = bare_reads(admin, sorted(desired.users))
    bindings = sorted(full.plan.create_acls)
    batch_seconds = batched(admin, bindings)
    one_each = per_binding(admin, bindings, args.sample)

    print(f"\n{args.grants} grants over {args.topics} topics, {len(bindings)} ACLs "
          f"(setup: SCRAM users of {max(1, args.grants // 10)} principals {setup:.2f}s, timed apart)")
    print(f"{'measure':<34}{'seconds':>9}{'baseline':>10}{'ratio':>9}{'target':>10}  verdict")
    full_ratio = full.seconds / bare_seconds
    print(f"{'full reconcile from empty':<34}{full.seconds:>9.2f}{bare_seconds:>10.2f}{full_ratio:>9.2f}"
          f"{'≤ 1.3':>10}  {verdicts.check('full', full_ratio <= TARGETS['full'])}")
    noop_ratio = noop.seconds / reads
    writes_ok = noop.plan.writes == 0 and not (noop.topics.created or noop.topics.reconfigured)
    print(f"{'no-op reconcile':<34}{noop.seconds:>9.2f}{reads:>10.2f}{noop_ratio:>9.2f}{'≤ 1.2':>10}  "
          f"{verdicts.check('noop', noop_ratio <= TARGETS['noop'])}")
    print(f"{'  broker writes of the no-op':<34}{noop.plan.writes:>9}{'':>10}{'':>9}{'0':>10}  "
          f"{verdicts.check('noop writes', writes_ok)}")
    speedup = one_each / batch_seconds
    print(f"{'ACLs one call each ÷ batched':<34}{one_each:>9.2f}{batch_seconds:>10.2f}{speedup:>8.0f}x"
          f"{'≥ 20x':>10}  {verdicts.check('batched', speedup >= TARGETS['batched'])}")
    print(f"  baselines: full = {args.topics} topics created in batches + {len(bindings)} ACLs created in batches "
          f"+ waiting until described; no-op = one describe of ACLs, SCRAM users and topics, all in flight at "
          f"once; one call each: "
          f"{args.sample} bindings, scaled")
    print(f"  phases of the full run: {phases(full)}")
    print(f"  phases of the no-op:    {phases(noop)}")


# --- 2. scale ----------------------------------------------------------------------------------------------------

def scale_rows(args, verdicts: Verdicts) -> None:
    print(f"\n{'scale: grants':<16}{'topics':>8}{'principals':>11}{'ACLs':>9}{'users s':>9}{'full s':>9}"
          f"{'× first':>9}{'no-op s':>9}")
    first = None
    for grants in args.scale:
        fresh()
        topics = max(1, grants // 10)
        setup = populate(grants, topics, f"s{grants}")
        cluster = default_cluster()
        full = reconcile(cluster, trigger="bench")
        noop = reconcile(cluster, trigger="bench")
        first = first or full.seconds
        print(f"{grants:<16}{topics:>8}{max(1, grants // 10):>11}{full.plan.summary()['create_acls']:>9}"
              f"{setup:>9.2f}{full.seconds:>9.2f}{full.seconds / first:>9.2f}{noop.seconds:>9.2f}"
              f"   failed items {full.run.counts['failed']}, no-op writes {noop.plan.writes}")
        if grants == 100_000 and args.scale[0] == 10_000:
            print(f"  100,000 grants ÷ 10,000: {full.seconds / first:.2f}x  (target ≤ 12x)  "
                  f"{verdicts.check('scale', full.seconds / first <= TARGETS['scale_100k'])}")


# --- 3. latency and expiry with real workers --------------------------------------------------------------------

@dataclass
class Holder:
    """A person with a live SCRAM user and its password, asking for one namespace."""

    user: object
    principal: KafkaPrincipal
    username: str  # of its SCRAM user
    password: str
    item: object = None
    changed_at: datetime | None = None  # when its latest change returned


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def can_read(holder: Holder, topic: str, attempt: int) -> bool:
    """A fresh consumer as the holder reads the topic's record; a refusal (or nothing in time) is False."""
    as_holder = KafkaConnection.from_settings().as_user(holder.username, holder.password)
    try:
        return bool(read_records(as_holder, topic, group=f"{holder.principal.group_prefix}probe-{attempt}",
                                 max_records=1, timeout=3))
    except KafkaAdapterError:
        return False


def until(holder: Holder, topic: str, readable: bool, limit: float) -> float:
    """Seconds until the holder's reading of the topic becomes `readable` (inf after `limit`)."""
    began = time.monotonic()
    attempt = 0
    while time.monotonic() - began < limit:
        attempt += 1
        if can_read(holder, topic, attempt) == readable:
            return time.monotonic() - began
        time.sleep(PROBE_PAUSE)
    return float("inf")


def start_workers(count: int) -> subprocess.Popen:
    """Real Celery workers with beat, in a process group of their own (stopped by stop_workers)."""
    worker = subprocess.Popen([str(Path(sys.executable).with_name("celery")), "-A", "portal", "worker", "--beat",
                               "--loglevel=warning", f"--concurrency={count}"], start_new_session=True,
                              stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not current_app.control.ping(timeout=1):
        if time.monotonic() > deadline or worker.poll() is not None:
            raise SystemExit("the Celery worker did not answer within 60 s")
    return worker


def stop_workers(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, 15)
    worker.wait(timeout=60)


def holders(count: int, namespace: Namespace) -> list[Holder]:
    """`count` people with a SCRAM user each (created by an in-process reconcile) and a pending request."""
    people = [get_user_model().objects.create_user(f"lat{i:03d}") for i in range(count)]
    principals = [principal_for(user) for user in people]
    for principal in principals:
        ensure_credential(principal, default_cluster())
    reconcile(default_cluster(), trigger="bench")
    found = []
    for user, principal in zip(people, principals, strict=True):
        credential = KafkaCredential.objects.get(principal=principal)
        password = credentials.show_password(user, credential)
        request = access.create_request(user, principal=principal, namespaces=[namespace], reason="benchmark",
                                        duration_days=7)
        found.append(Holder(user, principal, credential.username, password, request.items.get()))
    return found


def owner_of(team: Team):
    owner = get_user_model().objects.create_user("lat-owner")
    for group, mapping in (("bench-team", {"team": team}), ("bench-owners", {"role": Role.NAMESPACE_OWNER})):
        GroupMapping.objects.create(ldap_group=group, **mapping)
        owner.groups.add(Group.objects.create(name=group))
    return owner


def in_parallel(holders_: Sequence[Holder], change: Callable[[Holder], object], topic: str, readable: bool,
                limit: float) -> list[float]:
    """Makes each holder's change at once (one thread each), then times until its reading is `readable`."""

    def one(holder: Holder) -> float:
        try:
            change(holder)
            holder.changed_at = timezone.now()
            return until(holder, topic, readable, limit)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(holders_)) as pool:
        return list(pool.map(one, holders_))


def latency(args, verdicts: Verdicts) -> None:
    admin = fresh()
    team = Team.objects.create(slug="bench", name="Bench")
    owner = owner_of(team)
    namespace = catalogue.register_namespace(SYSTEM, name="bench-latency", owner_team=team)
    topic = Topic.objects.get(namespace=namespace).name
    people = holders(args.changes, namespace)
    produce(admin.connection, topic, [b'{"log": "benchmark"}'])
    # a broker just started makes its consumer offsets topic on the first group's first look: done here, as
    # the admin, so that no probe pays for it (a broker in service has had it since its first consumer)
    read_records(admin.connection, topic, group="bench-warm-up", max_records=1, timeout=30)
    worker = start_workers(args.workers)
    try:
        approvals_began = timezone.now()
        approvals = in_parallel(people, lambda h: access.decide(owner, h.item, "approve", "benchmark"), topic,
                                True, 60)
        approvals_ended = timezone.now()
        approved_at = {holder.username: holder.changed_at for holder in people}
        probe = timed(lambda: can_read(people[0], topic, 0))
        grants = {g.principal_id: g for g in Grant.objects.filter(state=GrantState.ACTIVE)}
        revocations = in_parallel(people, lambda h: access.end_grant(owner, grants[h.principal.pk],
                                                                     how=GrantState.REVOKED, reason="benchmark"),
                                  topic, False, 60)
        lateness = expiry(people, namespace, topic)
    finally:
        stop_workers(worker)

    print(f"\nchange latency, {args.changes} concurrent changes, {args.workers} Celery worker processes (with beat)")
    print(f"{'change':<34}{'p50 s':>9}{'p99 s':>9}{'max s':>9}{'target':>10}  verdict")
    for name, values in (("approve → the principal reads", approvals), ("revoke → refused", revocations)):
        p99 = percentile(values, 0.99)
        print(f"{name:<34}{percentile(values, 0.5):>9.2f}{p99:>9.2f}{max(values):>9.2f}{'p99 ≤ 1 s':>10}  "
              f"{verdicts.check(name, p99 <= TARGETS['p99'])}")
    worst = max(lateness)
    print(f"{'expiry: refused after valid_until':<34}{percentile(lateness, 0.5):>9.2f}"
          f"{percentile(lateness, 0.99):>9.2f}{worst:>9.2f}{'≤ 5 s':>10}  "
          f"{verdicts.check('expiry', worst <= TARGETS['expiry'])}")
    print(f"  one probe (a fresh consumer reading one record) takes {probe:.2f}s: the resolution of these "
          f"figures")
    where_time_goes(approvals_began, approvals_ended, approved_at, approvals)


def where_time_goes(began, ended, approved_at: dict[str, datetime], approvals: Sequence[float]) -> None:
    """The approvals' path: committed → claimed by a run → that run's end, the phases of the runs that carried
    them (ReconcileRun.counts["seconds"]), and per holder decided → its READ binding audited → it reads."""
    changes = list(BrokerChange.objects.filter(created_at__range=(began, ended), trigger="change")
                   .select_related("done_by"))
    carried = [change for change in changes if change.done_by is not None]
    if not carried:
        return
    waits = [(c.done_by.started_at - c.created_at).total_seconds() for c in carried]
    runs = {c.done_by.pk: c.done_by for c in carried}.values()
    lengths = [(run.finished_at - run.started_at).total_seconds() for run in runs]
    print(f"  {len(carried)} approvals carried by {len(runs)} runs; committed → claimed p50 "
          f"{percentile(waits, 0.5):.2f} p99 {percentile(waits, 0.99):.2f} s; a run p50 "
          f"{percentile(lengths, 0.5):.2f} max {max(lengths):.2f} s")
    phases_ = sorted({phase for run in runs for phase in run.counts.get("seconds", {})})
    print("  run phases p50/max s: " + ", ".join(
        f"{phase} {percentile(values, 0.5):.2f}/{max(values):.2f}" for phase in phases_
        for values in [[run.counts["seconds"].get(phase, 0.0) for run in runs]]))
    audited = dict(AuditEvent.objects.filter(action="acl.create", occurred_at__range=(began, ended),
                                             target_label__contains=" READ TOPIC:")
                   .values_list("target_label", "occurred_at"))
    to_acl, to_read = [], []
    for (username, decided), seconds in zip(approved_at.items(), approvals, strict=True):
        created = next((at for label, at in audited.items() if label.startswith(f"User:{username} ")), None)
        if created is not None:
            to_acl.append((created - decided).total_seconds())
            to_read.append(seconds - to_acl[-1])
    if to_acl:
        print(f"  decided → READ binding audited p50 {percentile(to_acl, 0.5):.2f} p99 {percentile(to_acl, 0.99):.2f}"
              f" s; audited → reads p50 {percentile(to_read, 0.5):.2f} p99 {percentile(to_read, 0.99):.2f} s")


def expiry(people: Sequence[Holder], namespace: Namespace, topic: str) -> list[float]:
    """Grants each holder the topic until a little more than two drain periods from now, made as the services
    make every grant (`access.after_grants`: a reconcile now, and one due at valid_until in the outbox, which the
    drain schedules with a Celery eta once it is near, as for a grant ending in a week), waits until each reads,
    then measures how late each consumer is refused after its valid_until. No row is changed behind the
    services' back."""
    topic_row = Topic.objects.get(namespace=namespace)
    now = timezone.now()
    ends = now + timedelta(seconds=2 * settings.LOGWARDEN_DRAIN_SECONDS + 5)
    with transaction.atomic():
        grants = [Grant.objects.create(principal=holder.principal, topic=topic_row, valid_from=now, valid_until=ends,
                                       source=GrantSource.ADMIN, reason="benchmark: expiry") for holder in people]
        access.after_grants(grants, SYSTEM, "grant.create")

    def late(holder: Holder) -> float:
        try:
            until(holder, topic, True, 60)
            time.sleep(max(0.0, (ends - timezone.now()).total_seconds()))
            return until(holder, topic, False, 120)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        return list(pool.map(late, people))


# --- entry point -------------------------------------------------------------------------------------------------

def is_local_database(host: str) -> bool:
    """A loopback address, 'localhost', or a Unix socket (no host, or a directory path): this machine."""
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it could resolve anywhere


def refusal(flush_requested: bool) -> str | None:
    """Why the benchmark must not empty this database, or None when it may."""
    host = connection.settings_dict.get("HOST") or ""
    where = f"database {connection.settings_dict.get('NAME')!r} on {host or 'a local socket'}"
    if settings.ENVIRONMENT == "production":
        return f"refusing to run: LOGWARDEN_ENV=production, and the benchmark empties the {where}"
    if not is_local_database(host):
        return (f"refusing to run: the benchmark empties the {where}, which is not a loopback address; "
                f"run it through `make bench`, which starts a throwaway PostgreSQL on 127.0.0.1")
    if not flush_requested:
        return (f"the benchmark empties the {where} before it starts: pass --flush-database to confirm "
                f"(`make bench` does)")
    return None


def grant_counts(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flush-database", action="store_true",
                        help="confirm that every row of the (local, non-production) database may be deleted")
    parser.add_argument("--grants", type=int, default=10_000, help="grants of the full and no-op reconcile")
    parser.add_argument("--topics", type=int, default=2_000, help="topics of the full and no-op reconcile")
    parser.add_argument("--ratios", action=argparse.BooleanOptionalAction, default=True,
                        help="the full, no-op and batched ratios (--no-ratios skips them)")
    parser.add_argument("--sample", type=int, default=1_000, help="bindings created one call each")
    parser.add_argument("--scale", type=grant_counts, default=[10_000, 30_000, 100_000],
                        help="grant counts of the scale rows, comma-separated ('' skips them)")
    parser.add_argument("--changes", type=int, default=50, help="concurrent changes of the latency part (0 skips)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes of the latency part")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("the benchmark runs on PostgreSQL (DATABASE_URL): run it through `make bench`", file=sys.stderr)
        return 2
    reason = refusal(args.flush_database)
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    profile = os.environ.get(devservices.PROFILE_VARIABLE)
    if not profile or devservices.persistent(profile):
        print("the benchmark starts its profile's broker anew for each part: run it through `make bench` (or "
              "`python -m portal.devservices run … --profile P`, P not a development profile, whose data is kept)",
              file=sys.stderr)
        return 2
    if args.changes and not settings.REDIS_URL:
        print("the latency part needs Redis for real workers (REDIS_URL): run it through `make bench`",
              file=sys.stderr)
        return 2

    print(f"os.cpu_count() = {os.cpu_count()}; a new broker of profile {profile} for each part; every ratio is "
          f"against a baseline measured in this run")
    call_command("migrate", verbosity=0)
    verdicts = Verdicts([])
    if args.ratios:
        reconcile_ratios(args, verdicts)
    if args.scale:
        scale_rows(args, verdicts)
    if args.changes:
        latency(args, verdicts)
    print("\nall targets met" if not verdicts.missed else f"\nTARGETS MISSED: {', '.join(verdicts.missed)}")
    return 0 if not verdicts.missed else 1


if __name__ == "__main__":
    sys.exit(main())
