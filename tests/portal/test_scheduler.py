"""The embedded default without Redis: the web process runs the periodic work itself (portal.core.scheduler),
so grants still expire and the outbox still drains; with Redis, Celery beat does and the web process does not."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.helpers import ROOT, eventually

THREADS = "import threading, portal.wsgi; print(sorted(t.name for t in threading.enumerate()))"


@pytest.mark.parametrize(("redis_url", "started"), [("", True), ("redis://127.0.0.1:1/0", False)])
def test_the_web_process_runs_the_schedule_only_without_redis(redis_url, started):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "portal.settings", "DATABASE_URL": "sqlite:///:memory:",
           **({"REDIS_URL": redis_url} if redis_url else {})}
    done = subprocess.run([sys.executable, "-c", THREADS], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("logwarden-scheduler" in done.stdout) is started


@pytest.mark.kafka
@pytest.mark.django_db(transaction=True)
def test_in_process_the_periodic_pass_expires_grants_and_reports_itself(world, pay, celery_eager, kafka_admin):
    from portal.core.scheduler import InProcessScheduler
    from topics.access import services as access
    from topics.models import Grant, GrantState
    from topics.provisioning.health import check_scheduler
    from topics.provisioning.principals import principal_for

    grant = access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=pay.topics.get(),
                                  days=1, reason="on call")
    Grant.objects.filter(pk=grant.pk).update(valid_from=timezone.now() - timedelta(days=2),
                                             valid_until=timezone.now() - timedelta(seconds=1))
    assert check_scheduler().state == "degraded"

    scheduler = InProcessScheduler({"reconcile-all": {"task": "topics.reconcile_all", "schedule": 60},
                                    "drain": {"task": "topics.drain_broker_changes", "schedule": 1}}, tick=0.2)
    scheduler.start()
    try:
        eventually(lambda: Grant.objects.get(pk=grant.pk).state, lambda state: state == GrantState.EXPIRED,
                   "the in-process periodic pass did not expire the grant", seconds=30)
    finally:
        scheduler.stop()
        scheduler.join(30)
    assert check_scheduler().state == "ok"
    assert not kafka_admin.describe_acls(principal="User:u.alice.a", resource_name=pay.topics.get().name)
