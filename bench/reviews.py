"""Benchmark of access reviews on PostgreSQL: starting a campaign over --grants grants, its pages, its report and
its deadline pass, each against a baseline measured in the same run.

    python -m portal.devservices run postgres kafka --profile bench-reviews -- .venv/bin/python bench/reviews.py

It builds --namespaces namespaces (one topic row each, no broker work) owned by teams of two owners, and --grants
admin grants spread over one person per ten grants. Then:

- start: `topics.reviews.services.start_campaign` over every grant ÷ the bare rows (reading the grants in scope and
  inserting one item per grant, in a transaction rolled back): what working out the reviewers and auditing cost;
- pages: p50/p95 of the campaign's progress page (a page of 50 items) and of the campaigns' list, in ms;
- report: the campaign report as CSV (`report` + `exports.as_csv`) ÷ a CSV of the same rows read with one
  values_list query;
- deadline: `close_due_campaigns` revoking every grant (each through topics.access.services, audited, its
  reconcile in the outbox) ÷ one bulk UPDATE of the same grants (rolled back): the cost of the one revoke path.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


class Rollback(Exception):
    pass


def timed(call) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def rolled_back(call) -> float:
    """Seconds `call` takes inside a transaction that is then rolled back."""
    from django.db import transaction

    began = time.perf_counter()
    try:
        with transaction.atomic():
            call()
            raise Rollback
    except Rollback:
        pass
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=20_000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--page-samples", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from accounts.models import GroupMapping, Role, Team
    from portal.core import exports
    from topics.catalogue.clusters import default_cluster
    from topics.models import (Grant, GrantSource, GrantState, KafkaPrincipal, Namespace, RetentionClass,
                               ReviewCampaign, ReviewItem, Topic)
    from topics.reviews import services as reviews

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:6]
    users = get_user_model()
    cluster = default_cluster()
    retention = RetentionClass.objects.get(name="standard")
    owners_group = Group.objects.create(name=f"owners-{run}")
    GroupMapping.objects.create(ldap_group=owners_group.name, role=Role.NAMESPACE_OWNER)
    auditors = Group.objects.create(name=f"auditors-{run}")
    GroupMapping.objects.create(ldap_group=auditors.name, role=Role.AUDITOR)
    auditor = users.objects.create(username=f"auditor-{run}")
    auditor.groups.add(auditors)
    teams = []
    for t in range(max(1, args.namespaces // 10)):
        team = Team.objects.create(slug=f"t{run}-{t}", name=f"team {t}")
        group = Group.objects.create(name=f"team-{run}-{t}")
        GroupMapping.objects.create(ldap_group=group.name, team=team)
        for o in range(2):
            owner = users.objects.create(username=f"o{run}-{t}-{o}")
            owner.groups.add(group, owners_group)
        teams.append(team)
    namespaces = Namespace.objects.bulk_create([
        Namespace(name=f"r{run}-{i:04d}", retention_class=retention, owner_team=teams[i % len(teams)])
        for i in range(args.namespaces)])
    topics = Topic.objects.bulk_create([Topic(namespace=n, cluster=cluster, name=cluster.topic_name_for(n.name))
                                        for n in namespaces])
    holders = users.objects.bulk_create([users(username=f"h{run}-{i:06d}")
                                         for i in range(max(1, args.grants // 10))], batch_size=5000)
    principals = KafkaPrincipal.objects.bulk_create([KafkaPrincipal(user=u, name=f"u.{u.username}")
                                                     for u in holders], batch_size=5000)
    now = timezone.now()
    Grant.objects.bulk_create([
        Grant(principal=principals[g // 10], topic=topics[(g * 7919) % len(topics)], valid_from=now,
              valid_until=now + timedelta(days=30), source=GrantSource.ADMIN, reason="benchmark")
        for g in range(args.grants)], batch_size=5000)
    print(f"{args.grants} grants on {args.namespaces} namespaces of {len(teams)} teams; "
          f"{os.cpu_count()} CPUs (shared: absolute times are noisy, ratios less so)")

    def bare_rows() -> None:
        campaign = ReviewCampaign.objects.create(name="bare", created_by=auditor, deadline=now + timedelta(days=10))
        grants = list(reviews.in_scope(namespaces=(), sensitivities=(), teams=())
                      .select_related("principal", "topic__namespace__owner_team"))
        ReviewItem.objects.bulk_create([ReviewItem(campaign=campaign, grant=g, valid_until_at_start=g.valid_until)
                                        for g in grants], batch_size=5000)

    baseline = min(rolled_back(bare_rows) for _ in range(2))
    campaign = None

    def start() -> None:
        nonlocal campaign
        campaign = reviews.start_campaign(auditor, name=f"bench {run}", deadline=timezone.now() + timedelta(days=10))

    started = timed(start)
    print(f"start: {started:.2f} s for {campaign.items.count()} items; bare rows {baseline:.2f} s; "
          f"ratio {started / baseline:.1f}")

    client = Client()
    client.force_login(auditor)
    for name, url in (("progress page", f"/access/reviews/campaigns/{campaign.pk}/"),
                      ("campaigns' list", "/access/reviews/campaigns/")):
        samples = []
        for _ in range(args.page_samples):
            began = time.perf_counter()
            assert client.get(url).status_code == 200
            samples.append((time.perf_counter() - began) * 1000)
        samples.sort()
        print(f"{name}: p50 {statistics.median(samples):.0f} ms, p95 {samples[int(0.95 * (len(samples) - 1))]:.0f} ms")

    reported = timed(lambda: exports.as_csv(reviews.report(campaign)))

    def plain_csv() -> None:
        rows = campaign.items.values_list("pk", "grant__topic__namespace__name", "grant__topic__name",
                                          "grant__principal__name", "grant_id", "grant__source",
                                          "valid_until_at_start", "by_fallback", "decision", "decided_by__username",
                                          "decided_at", "new_valid_until", "comment")
        writer = csv.writer(io.StringIO())
        writer.writerows(rows)

    plain = timed(plain_csv)
    print(f"report CSV: {reported:.2f} s; plain query + CSV {plain:.2f} s; ratio {reported / plain:.1f}")

    ids = list(campaign.items.values_list("grant_id", flat=True))
    bulk = rolled_back(lambda: Grant.objects.filter(pk__in=ids).update(state=GrantState.REVOKED, ended_at=now))
    ReviewCampaign.objects.filter(pk=campaign.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    closed = timed(reviews.close_due_campaigns)
    print(f"deadline: {closed:.2f} s to revoke {len(ids)} grants ({closed / len(ids) * 1000:.2f} ms each); "
          f"bulk UPDATE {bulk:.3f} s; ratio {closed / bulk:.0f}")


if __name__ == "__main__":
    main()
