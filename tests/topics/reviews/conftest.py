"""Fixtures of the access-review and break-glass tests: a namespace of team payments with its topic on the real
broker and one record in it, and grants on it that no broker run has provisioned (`held`)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.core.audit import SYSTEM
from tests.factories import person
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.kafka.adapter import produce
from topics.provisioning.principals import principal_for

RECORD = json.dumps({"log": "GET /health 200\n", "stream": "stdout",
                     "kubernetes": {"namespace_name": "payments", "pod_name": "api-1"}}).encode()


@pytest.fixture
def on_broker(world, unique, kafka_connection, django_capture_on_commit_callbacks, celery_eager):
    """A namespace of team payments whose topic the reconciler made on the broker, with one record."""
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"rev-{unique}", owner_team=world.payments)
    produce(kafka_connection, namespace.topics.get().name, [RECORD])
    return namespace


@pytest.fixture
def held(world, pay):
    """Grants on `pay` (a row only: their reconcile, enqueued on commit, never runs): alice's, bob's (an owner of
    payments himself) and the payments service account's, each granted by the admin for 20 days."""
    topic = pay.topics.get()
    return {role: access.grant_directly(world.admin, principal=principal_for(world.user_for(role)), topic=topic,
                                        days=20, reason=f"{role} on call")
            for role in ("engineer", "owner", "service_account")}


@pytest.fixture
def second_owner(world):
    """olive, another owner in team payments: she may review bob's grant."""
    return person("olive", "team-payments", "logwarden-owners")


def soon(days: float = 14):
    return timezone.now() + timedelta(days=days)
