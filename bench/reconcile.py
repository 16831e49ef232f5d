"""Benchmark of the reconciler against the real broker.

    make bench      (or: python -m portal.devservices run postgres kafka --profile bench -- \
                          .venv/bin/python bench/reconcile.py --flush-database [--grants N] [--topics N] [--sample N])

It starts by emptying the database DATABASE_URL names (`manage.py flush`), so it asks for --flush-database and
refuses, whatever the flag, when LOGWARDEN_ENV=production or the database is not on this machine (a loopback
address or a Unix socket): the throwaway PostgreSQL that `make bench` starts.

Prints, from one run: a full reconcile of N grants over M topics from an empty broker — no topics, no ACLs;
the principals' SCRAM credentials are issued first and timed apart — (target ≤ 10 s), the no-op reconcile
that follows (target ≤ 1 s, 0 writes), and the same ACL work done one AdminClient call per binding (target:
batched ≥ 20× faster). The per-binding figure is measured on a sample of bindings and scaled to the full count,
because creating tens of thousands of ACLs one request at a time takes minutes.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from topics.catalogue.clusters import admin_for, default_cluster  # noqa: E402
from topics.models import Grant, GrantSource, KafkaCredential, KafkaPrincipal, Namespace, RetentionClass, Topic  # noqa: E402
from topics.provisioning.reconciler import reconcile  # noqa: E402


def build_principals(count: int) -> list[KafkaPrincipal]:
    """People with a pending credential each: the reconciler creates their SCRAM users."""
    cluster = default_cluster()
    users = get_user_model().objects.bulk_create([get_user_model()(username=f"bench{i:05d}") for i in range(count)])
    principals = KafkaPrincipal.objects.bulk_create(
        [KafkaPrincipal(user=user, name=f"u.{user.username}") for user in users])
    KafkaCredential.objects.bulk_create([KafkaCredential(principal=p, cluster=cluster, slot="a") for p in principals])
    return principals


def build_grants(principals: list[KafkaPrincipal], grants: int, topics: int) -> None:
    """`topics` namespaces with a topic each, and `grants` live grants spread over principals and topics."""
    cluster = default_cluster()
    retention = RetentionClass.objects.get(name="standard")
    namespaces = Namespace.objects.bulk_create(
        [Namespace(name=f"bench-{i:05d}", retention_class=retention) for i in range(topics)])
    topic_rows = Topic.objects.bulk_create(
        [Topic(namespace=ns, cluster=cluster, name=cluster.topic_name_for(ns.name)) for ns in namespaces])
    now = timezone.now()
    per_principal = -(-grants // len(principals))
    Grant.objects.bulk_create([
        Grant(principal=principals[g // per_principal], topic=topic_rows[(g * 7919) % topics], valid_from=now,
              valid_until=now + timezone.timedelta(days=7), source=GrantSource.ADMIN, reason="benchmark")
        for g in range(grants)], batch_size=5000)


def per_binding(admin, bindings, sample: int) -> tuple[float, int]:
    """Creates then deletes `sample` bindings one AdminClient call each; returns seconds for creation."""
    chosen = bindings[:sample]
    admin.delete_acls(chosen)
    began = time.perf_counter()
    for binding in chosen:
        admin.create_acls([binding])
    return time.perf_counter() - began, len(chosen)


def batched(admin, bindings) -> float:
    admin.delete_acls(bindings)
    began = time.perf_counter()
    admin.create_acls(bindings)
    return time.perf_counter() - began


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flush-database", action="store_true",
                        help="confirm that every row of the (local, non-production) database may be deleted")
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=2_000)
    parser.add_argument("--sample", type=int, default=1_000, help="bindings created one call each")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("the benchmark runs on PostgreSQL (DATABASE_URL): run it through `make bench`", file=sys.stderr)
        return 2
    reason = refusal(args.flush_database)
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    cluster = default_cluster()
    principals = build_principals(args.grants // 10)
    issued = reconcile(cluster, trigger="bench")
    print(f"setup: SCRAM credentials for {len(principals)} new principals: {issued.seconds:.2f}s "
          f"(librdkafka salts each password with PBKDF2 client-side: one-time cost per principal)")
    build_grants(principals, args.grants, args.topics)

    full = reconcile(cluster, trigger="bench")
    noop = reconcile(cluster, trigger="bench")
    counts = full.plan.summary()
    print(f"full reconcile of {args.grants} grants over {args.topics} topics from empty (no topics, no acls): "
          f"{full.seconds:.2f}s  (target ≤ 10 s)  topics created {len(full.topics.created)}, "
          f"acls {counts['create_acls']}")
    print(f"  phases: {full.run.counts['seconds']}")
    print(f"no-op reconcile:           {noop.seconds:.2f}s  (target ≤ 1 s)   broker writes {noop.plan.writes} "
          f"(target 0), topics changed {len(noop.topics.created) + len(noop.topics.reconfigured)}")
    print(f"  phases: {noop.run.counts['seconds']}")

    admin = admin_for(cluster)
    bindings = sorted(full.plan.create_acls)
    batch_seconds = batched(admin, bindings)
    sample_seconds, sampled = per_binding(admin, bindings, args.sample)
    scaled = sample_seconds / sampled * len(bindings)
    print(f"{len(bindings)} acls batched:          {batch_seconds:.2f}s")
    print(f"{len(bindings)} acls one call each:    {scaled:.1f}s  "
          f"(measured {sample_seconds:.2f}s for {sampled}, scaled)")
    print(f"batched speed-up:          {scaled / batch_seconds:.0f}x  (target ≥ 20x)")
    ok = full.seconds <= 10 and noop.seconds <= 1 and noop.plan.writes == 0 and scaled / batch_seconds >= 20
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
