"""Fixtures of the provisioning tests: credentials as the reconciler leaves them (`creds`, no broker touched), and
a credential the reconciler made on the real broker (`granted`)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.core.audit import SYSTEM
from tests.factories import activate, person, topic_of
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.catalogue.clusters import default_cluster
from topics.models import KafkaCredential
from topics.provisioning.principals import principal_for

PASSWORD = "fresh-password-0123456789"


@pytest.fixture
def creds(world):
    """payments' service account holds a grant on payments, erin one on checkout; both credentials are active
    with their new password waiting; alice has a principal but no grant."""
    cluster = default_cluster()
    for namespace in (world.ns_payments, world.ns_checkout):
        topic_of(namespace, cluster)
    for role in ("engineer", "owner", "auditor", "admin"):
        principal_for(world.user_for(role))  # a first GET would create them: keep reads free of writes
    etl, erin = principal_for(world.service_account.user), principal_for(world.outsider)
    access.grant_directly(world.admin, principal=etl, topic=world.ns_payments.topics.get(), days=7, reason="export")
    access.grant_directly(world.admin, principal=erin, topic=world.ns_checkout.topics.get(), days=7, reason="debug")
    return SimpleNamespace(cluster=cluster,
                           etl=activate(KafkaCredential.objects.get(principal=etl), password=PASSWORD),
                           other=activate(KafkaCredential.objects.get(principal=erin), password=PASSWORD))


@pytest.fixture
def granted(world, unique, celery_eager, django_capture_on_commit_callbacks):
    """A person of team payments with a grant on a fresh namespace, its credential created on the broker."""
    holder = person(f"h{unique}", "team-payments")
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"cred-{unique}", owner_team=world.payments)
        access.grant_directly(world.admin, principal=principal_for(holder), topic=namespace.topics.get(), days=3,
                              reason="credential tests")
    return holder, namespace.topics.get(), KafkaCredential.objects.get(principal__user=holder)
