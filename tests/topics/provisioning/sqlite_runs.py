"""Run by test_sqlite.py in a process of its own, on a real SQLite file database (DATABASE_URL) and the real
broker: two reconcile runs of one cluster at once, for a principal whose credential is pending, and the lock
interface's try-lock on SQLite. Prints what happened as JSON on its last line."""
from __future__ import annotations

import json
import os
import sys
import threading
import uuid

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from portal.celery import app  # noqa: E402
from portal.core import locks  # noqa: E402
from portal.core.audit import SYSTEM  # noqa: E402
from portal.models import AuditEvent  # noqa: E402
from tests.factories import build_world, person  # noqa: E402
from tests.helpers import at_once  # noqa: E402
from topics.access import services as access  # noqa: E402
from topics.catalogue import services as catalogue  # noqa: E402
from topics.kafka.adapter import KafkaConnection, produce, read_records  # noqa: E402
from topics.models import KafkaCredential  # noqa: E402
from topics.provisioning import handoff  # noqa: E402
from topics.provisioning.principals import principal_for  # noqa: E402
from topics.provisioning.reconciler import reconcile  # noqa: E402


def try_lock_while_another_thread_holds_it() -> bool | None:
    holding, release, seen = threading.Event(), threading.Event(), []

    def hold():
        with locks.held(locks.LockSpace.KAFKA_CLUSTER, 1):
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    with locks.held(locks.LockSpace.KAFKA_CLUSTER, 1, wait=False) as got:
        seen.append(got)
    release.set()
    thread.join()
    return seen[0]


def main() -> dict:
    assert connection.vendor == "sqlite", connection.vendor
    call_command("migrate", verbosity=0)
    # the changes' own runs must not happen here: their messages go to an in-memory broker nobody reads
    app.conf.task_always_eager, app.conf.broker_url = False, "memory://"
    suffix = uuid.uuid4().hex[:8]
    world = build_world()
    namespace = catalogue.register_namespace(SYSTEM, name=f"lite-{suffix}", owner_team=world.payments)
    principal = principal_for(person(f"lite{suffix}", "team-payments"))
    access.grant_directly(world.admin, principal=principal, topic=namespace.topics.get(), days=1, reason="race")
    cluster = namespace.topics.get().cluster

    outcomes = at_once(lambda: reconcile(cluster, trigger="change"), lambda: reconcile(cluster, trigger="change"))

    credential = KafkaCredential.objects.get(principal=principal)
    admin = KafkaConnection.from_env(os.environ)
    produce(admin, namespace.topics.get().name, [b"hello"])
    password = handoff.claim(credential)
    read = read_records(admin.as_user(credential.username, password), namespace.topics.get().name,
                        group=f"{principal.name}.check")
    return {"errors": [repr(o) for o in outcomes if isinstance(o, Exception)],
            "creates": AuditEvent.objects.filter(action="scram_user.create", target_id=credential.username).count(),
            "handed_off_password_reads": read == [b"hello"],
            "try_lock_while_held": try_lock_while_another_thread_holds_it()}


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.exit(0)
