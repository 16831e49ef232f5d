"""Benchmark of the point-in-time answer and the history's report pages on PostgreSQL, in ratios to a trivial
SELECT measured in the same process.

    python -m portal.devservices run postgres --profile <yours> -- .venv/bin/python bench/audit_history.py \
        --flush-database [--grants 100000] [--events 1000000]

It empties the database DATABASE_URL names, then seeds it with COPY: --grants grants (over 1,000 namespaces and
10,000 people; 30 % from approved requests, with their request, item and approval; some revoked, the ended ones
expired) and --events audit events (each grant's grant.create, its acl.create, its end and acl.delete; the rest
portal reads, logs.read, inside their grants), the last portal read of half the running grants, and 500
reconcile runs of which some found drift. The events are written as the trail's rows, with unique stand-in
hashes: verifying the chain is not what this times. Then it prints:

- the point-in-time answer (topics.history.services: who could read a namespace at an instant, on a date;
  what a principal could read): p50 and p95 (target ≤ 50 ms);
- the report pages through the Django test client as an auditor (expiring, stale, drift, a namespace's answer
  with its chart, its timeline, grants over time): p50 and p95 (target p95 ≤ 150 ms);
- with --replay, that the answers for a few namespaces equal the replay of the whole trail.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import GroupMapping, Role, Team  # noqa: E402
from portal.models import AuditEvent  # noqa: E402
from topics.history import services as history  # noqa: E402
from topics.history.answer import Window  # noqa: E402
from topics.history.replay import Replay  # noqa: E402
from topics.models import (AccessRequest, Approval, Grant, GrantSource, GrantState, KafkaCluster,  # noqa: E402
                           KafkaPrincipal, LastRead, Namespace, ReadChannel, ReconcileRun, RequestItem,
                           RetentionClass, Topic)

NAMESPACES, PEOPLE, RUNS = 1000, 10_000, 500
TARGETS = {"answer_p95_ms": 50.0, "page_p95_ms": 150.0}
SPAN_DAYS = 120


def refusal(flush_requested: bool) -> str | None:
    """Why the benchmark must not empty this database, or None when it may."""
    host = connection.settings_dict.get("HOST") or ""
    if settings.ENVIRONMENT == "production" or connection.vendor != "postgresql":
        return "refusing to run: it needs a throwaway PostgreSQL (LOGWARDEN_ENV is production, or not PostgreSQL)"
    if host not in ("127.0.0.1", "localhost", "::1", ""):
        return f"refusing to run: the database is on {host}, not this machine"
    if not flush_requested:
        return "the benchmark empties the database before it starts: pass --flush-database to confirm"
    return None


def copy(model, columns: tuple[str, ...], rows) -> None:
    """Rows into the model's table through PostgreSQL's COPY (columns by their database names)."""
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as out:
            for row in rows:
                out.write_row(row)


def next_id(model) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def seed(grant_count: int, event_count: int, rng: random.Random) -> dict:
    began = time.monotonic()
    now = timezone.now()
    cluster = KafkaCluster.objects.create(name="default", bootstrap="127.0.0.1:9092", is_default=True)
    standard, _ = RetentionClass.objects.get_or_create(name="standard", defaults={"retention_ms": 7 * 86_400_000})
    team = Team.objects.create(slug="bench", name="Bench")
    auditors = Group.objects.create(name="logwarden-auditors")
    GroupMapping.objects.create(ldap_group="logwarden-auditors", role=Role.AUDITOR)
    User = get_user_model()
    auditor = User.objects.create_user("auditor", password=None)
    auditor.groups.add(auditors)
    users = User.objects.bulk_create([User(username=f"p{i:05d}", password="!") for i in range(PEOPLE)],
                                     batch_size=5000)
    principals = KafkaPrincipal.objects.bulk_create([KafkaPrincipal(user=u, name=f"u.{u.username}") for u in users],
                                                    batch_size=5000)
    namespaces = Namespace.objects.bulk_create([Namespace(name=f"ns-{i:04d}", owner_team=team,
                                                          retention_class=standard) for i in range(NAMESPACES)])
    topics = Topic.objects.bulk_create([Topic(namespace=n, cluster=cluster, name=f"logs.{n.name}")
                                        for n in namespaces])
    approver = users[0]

    grants, events, requests = [], [], []
    first_grant = next_id(Grant)
    for index in range(grant_count):
        pk, topic, principal = first_grant + index, topics[index % NAMESPACES], rng.choice(principals)
        valid_from = now - timedelta(days=rng.uniform(0, SPAN_DAYS))
        valid_until = valid_from + timedelta(days=rng.randint(1, 30))
        revoked = rng.random() < 0.1 and valid_until > now - timedelta(days=1)
        ended_at = (valid_from + (min(valid_until, now) - valid_from) * rng.random()) if revoked else (
            valid_until + timedelta(seconds=30) if valid_until < now else None)
        state = GrantState.REVOKED if revoked else GrantState.EXPIRED if ended_at else GrantState.ACTIVE
        source = GrantSource.REQUEST if index % 10 < 3 else GrantSource.ADMIN
        request = len(requests) + 1 if source == GrantSource.REQUEST else None
        if request:
            requests.append((request, principal, valid_from, topic))
            events.append((valid_from - timedelta(hours=1), principal.user_id, principal.user.username,
                           "request.create", "topics.accessrequest", str(request), {"reason": "bench"}))
            events.append((valid_from, approver.pk, approver.username, "request.approve", "topics.accessrequest",
                           str(request), {"namespace": topic.namespace.name, "comment": "ok"}))
        grants.append((pk, principal.pk, topic.pk, valid_from, valid_until, source, request, state, approver.pk,
                       "bench", ended_at, ""))
        data = {"principal": principal.name, "topic": topic.name, "namespace": topic.namespace.name,
                "cluster": cluster.name, "valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat(),
                "source": source, "reason": "bench", **({"request": request} if request else {})}
        binding = f"User:{principal.name}.a ALLOW READ TOPIC:{topic.name}"
        events.append((valid_from, approver.pk, approver.username, "grant.create", "topics.grant", str(pk), data))
        events.append((valid_from + timedelta(seconds=1), None, "system", "acl.create", "kafka.acl", binding,
                       {"cluster": cluster.name, "reconcile_run": 1}))
        if ended_at:
            events.append((ended_at, None, "system", "grant.revoke" if revoked else "grant.expire", "topics.grant",
                           str(pk), {"ended_at": ended_at.isoformat()}))
            events.append((ended_at + timedelta(seconds=1), None, "system", "acl.delete", "kafka.acl", binding,
                           {"cluster": cluster.name, "reconcile_run": 1, "foreign": False}))
    copy(AccessRequest, ("id", "requester_id", "principal_id", "reason", "duration_days", "state", "created_at"),
         ((pk, p.user_id, p.pk, "bench", 7, "approved", at) for pk, p, at, _ in requests))
    copy(RequestItem, ("id", "request_id", "namespace_id", "approvals_required", "state", "decided_at"),
         ((pk, pk, topic.namespace_id, 1, "approved", at) for pk, _, at, topic in requests))
    copy(Approval, ("item_id", "approver_id", "decision", "comment", "created_at"),
         ((pk, approver.pk, "approve", "ok", at) for pk, _, at, _ in requests))
    copy(Grant, ("id", "principal_id", "topic_id", "valid_from", "valid_until", "source", "request_item_id",
                 "state", "granted_by_id", "reason", "ended_at", "end_reason", "ended_by_id"),
         ((*g, None) for g in grants))
    events += _reads(grants, principals, topics, event_count - len(events), rng, now)
    events.sort(key=lambda e: e[0])
    copy(AuditEvent, ("occurred_at", "actor_id", "actor_label", "action", "target_type", "target_id",
                      "target_label", "data", "previous_hash", "hash"),
         ((at, actor, label, action, ttype, tid, tid[:300], json.dumps(data), "0" * 64,
           hashlib.sha256(str(i).encode()).hexdigest()) for i, (at, actor, label, action, ttype, tid, data)
          in enumerate(events)))
    running = [g for g in grants if g[7] == GrantState.ACTIVE and g[4] > now]
    LastRead.objects.bulk_create([LastRead(principal_id=g[1], topic_id=g[2], channel=ReadChannel.PORTAL,
                                           last_read_at=now - timedelta(days=rng.uniform(0, 60)))
                                  for g in running[::2]], batch_size=5000, ignore_conflicts=True)
    quiet = {"create_acls": 0, "drift_acls": 0, "unmanaged_acls": 0, "missing_users": 0, "unknown_users": 0}
    ReconcileRun.objects.bulk_create([ReconcileRun(
        cluster=cluster, trigger="periodic", started_at=now - timedelta(minutes=i), finished_at=now,
        status="succeeded", succeeded=True, counts={**quiet, "drift_acls": 2 if i % 10 == 0 else 0},
        drift={"enforced": True, "foreign_acls": ["User:x ALLOW READ TOPIC:logs.ns-0001"] if i % 10 == 0 else []})
        for i in range(RUNS)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seconds = time.monotonic() - began
    print(f"seeded {Grant.objects.count():,} grants, {AuditEvent.objects.count():,} audit events, "
          f"{len(requests):,} requests in {seconds:.1f} s", flush=True)
    return {"auditor": auditor, "namespaces": namespaces, "principals": principals, "now": now}


def _reads(grants, principals, topics, count: int, rng: random.Random, now) -> list:
    """`count` portal reads, each by a grant's holder on its topic inside the grant's interval."""
    users = {p.pk: (p.user_id, p.user.username, p.name) for p in principals}
    names = {t.pk: (t.name, t.namespace_id) for t in topics}
    reads = []
    for _ in range(max(count, 0)):
        _, principal, topic, valid_from, valid_until, *_ = rng.choice(grants)
        user_id, username, name = users[principal]
        topic_name, namespace_id = names[topic]
        at = valid_from + (min(valid_until, now) - valid_from) * rng.random()
        reads.append((at, user_id, username, "logs.read", "topics.namespace", str(namespace_id),
                      {"principal": name, "topic": topic_name, "mode": "page", "records": 100}))
    return reads


def timed(call: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each run."""
    spent = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        spent.append((time.perf_counter() - began) * 1000)
    return spent


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def report(name: str, spent: list[float], baseline: float, target: float | None = None) -> bool:
    ok = target is None or p95(spent) <= target
    verdict = "" if target is None else f"  target p95 ≤ {target:.0f} ms: {'met' if ok else 'MISSED'}"
    print(f"{name:<44} p50 {statistics.median(spent):7.2f} ms  p95 {p95(spent):7.2f} ms  "
          f"(×{statistics.median(spent) / baseline:,.0f} a trivial SELECT){verdict}", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flush-database", action="store_true")
    parser.add_argument("--grants", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40, help="timed runs of each question and page")
    parser.add_argument("--replay", action="store_true", help="also compare a few answers with the replay")
    args = parser.parse_args()
    why = refusal(args.flush_database)
    if why:
        print(why, file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    rng = random.Random(12)
    seeded = seed(args.grants, args.events, rng)
    now, namespaces, principals = seeded["now"], seeded["namespaces"], seeded["principals"]

    def trivial() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    baseline = statistics.median(timed(trivial, 500))
    print(f"{'baseline: SELECT 1':<44} p50 {baseline:7.3f} ms", flush=True)
    instants = [now - timedelta(days=rng.uniform(0, SPAN_DAYS)) for _ in range(args.runs)]
    picks = iter(range(10**9))

    def some_namespace():
        return namespaces[rng.randrange(NAMESPACES)]

    ok = report("who could read a namespace, at an instant",
                timed(lambda: history.who_could_read(some_namespace(), Window.instant(instants[next(picks) %
                                                                                          args.runs])), args.runs),
                baseline, TARGETS["answer_p95_ms"])
    ok &= report("who could read a namespace, now",
                 timed(lambda: history.who_could_read(some_namespace(), Window.instant(timezone.now())), args.runs),
                 baseline, TARGETS["answer_p95_ms"])
    ok &= report("who could read a namespace, on a date",
                 timed(lambda: history.who_could_read(some_namespace(), Window.day(
                     instants[next(picks) % args.runs].date())), args.runs), baseline, TARGETS["answer_p95_ms"])
    ok &= report("what could a principal read, on a date",
                 timed(lambda: history.what_could_read(rng.choice(principals), Window.day(
                     instants[next(picks) % args.runs].date())), args.runs), baseline, TARGETS["answer_p95_ms"])
    sizes = [len(history.who_could_read(some_namespace(), Window.day(now.date()))) for _ in range(10)]
    print(f"(a namespace's answer on a day holds {statistics.mean(sizes):.0f} grants on average)", flush=True)

    client = Client()
    client.force_login(seeded["auditor"])
    pages = {"expiring report (7 days)": lambda: "/history/reports/expiring/",
             "stale report (30 days)": lambda: "/history/reports/stale/",
             "drift report": lambda: "/history/reports/drift/",
             "a namespace's answer and chart, on a date": lambda: (
                 f"/history/namespaces/{some_namespace().name}/?at={instants[next(picks) % args.runs].date()}"),
             "a namespace's timeline": lambda: f"/history/namespaces/{some_namespace().name}/timeline/",
             "grants over time (30 days)": lambda: f"/history/namespaces/{some_namespace().name}/grants/",
             "API: expiring within 30 days": lambda: "/api/history/reports/expiring/?days=30"}

    def get(path: Callable[[], str]) -> None:
        response = client.get(path())
        assert response.status_code == 200, (response.status_code, response.content[:300])

    for name, path in pages.items():
        get(path)  # the first request compiles the templates: the timed ones are a running portal's
        ok &= report(f"page: {name}", timed(lambda path=path: get(path), args.runs), baseline,
                     TARGETS["page_p95_ms"])

    if args.replay:
        began = time.monotonic()
        replay = Replay.of(AuditEvent.objects.order_by("sequence").iterator(chunk_size=20_000))
        print(f"replayed {AuditEvent.objects.count():,} events in {time.monotonic() - began:.1f} s", flush=True)
        for namespace in rng.sample(namespaces, 5):
            for window in (Window.instant(instants[0]), Window.day(instants[1].date())):
                assert history.who_could_read(namespace, window) == replay.answer(window, namespace=namespace.name)
        print("the recorded answers equal the replay for 5 namespaces at an instant and on a day", flush=True)
    print(f"targets {'met' if ok else 'MISSED'} (nproc {os.cpu_count()})", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
