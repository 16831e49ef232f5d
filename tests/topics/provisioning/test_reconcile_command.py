"""`manage.py reconcile`: the plan printed like terraform's, then applied; and a real worker converging."""
from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portal.celery import app
from portal.core.audit import SYSTEM
from tests.factories import person
from tests.helpers import real_worker
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.kafka.adapter import produce, read_records
from topics.kafka.errors import KafkaAuthorizationError
from topics.kafka.types import TopicSpec
from topics.models import KafkaCredential
from topics.provisioning import handoff
from topics.provisioning.principals import principal_for

pytestmark = [pytest.mark.kafka]


@pytest.mark.django_db
def test_plan_lists_the_changes_and_apply_makes_them(world, unique, kafka_admin):
    namespace = catalogue.register_namespace(SYSTEM, name=f"cmd-{unique}", owner_team=world.payments)
    principal = principal_for(person(f"p{unique}", "team-payments"))  # a name no other test left on the broker
    access.grant_directly(world.admin, principal=principal, topic=namespace.topics.get(), days=1, reason="test")
    username = f"{principal.name}.a"

    planned = StringIO()
    call_command("reconcile", "--plan", stdout=planned)
    assert f"+ scram user {username}" in planned.getvalue()
    assert f"+ acl User:{username} ALLOW READ TOPIC:logs.cmd-{unique}" in planned.getvalue()
    assert username not in kafka_admin.list_scram_users()  # a plan changes nothing

    applied = StringIO()
    call_command("reconcile", "--cluster", "default", stdout=applied)
    assert "broker write(s)" in applied.getvalue()
    assert username in kafka_admin.list_scram_users()

    again = StringIO()
    call_command("reconcile", "--plan", stdout=again)
    assert "plan: 0 user(s) and 0 acl(s) to create, 0 acl(s) and 0 user(s) to delete" in again.getvalue()


@pytest.mark.django_db
def test_unknown_cluster_is_named():
    with pytest.raises(CommandError, match="--cluster: no cluster named 'nope'"):
        call_command("reconcile", "--cluster", "nope")


@pytest.mark.django_db(transaction=True)
@pytest.mark.redis
def test_an_approval_reaches_the_broker_through_a_real_worker_within_seconds(world, unique, kafka_connection,
                                                                             kafka_admin):
    assert not app.conf.task_always_eager  # the real path: on_commit → Redis → worker → broker
    namespace = catalogue.register_namespace(SYSTEM, name=f"wrk-{unique}", owner_team=world.payments)
    kafka_admin.ensure_topics([TopicSpec(namespace.topics.get().name)])
    produce(kafka_connection, namespace.topics.get().name, [b"a log line"])
    principal = principal_for(world.engineer)
    request = access.create_request(world.engineer, principal=principal, namespaces=[namespace],
                                    reason="on call", duration_days=1)
    with real_worker():
        began = time.monotonic()
        access.decide(world.owner, request.items.get(), "approve", "yes")
        password, records = None, None
        while time.monotonic() - began < 20:
            credential = KafkaCredential.objects.filter(principal=principal, state="active").first()
            if credential is not None and password is None:
                password = handoff.claim(credential)
            if password is not None:
                try:
                    records = read_records(kafka_connection.as_user(credential.username, password),
                                           namespace.topics.get().name, group=f"{principal.name}.w", timeout=2)
                    break
                except KafkaAuthorizationError:
                    pass
            time.sleep(0.5)
        elapsed = time.monotonic() - began
    assert records == [b"a log line"]
    assert elapsed < 20
