"""Fixtures of the provisioning tests: credentials as the reconciler leaves them (no broker touched)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import activate, topic_of
from topics.access import services as access
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
