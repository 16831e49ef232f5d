"""The rules of credentials that need no broker: who rotates and on what trigger, the policy pass, and the
hand-off window of a replacing credential."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.core.audit import SYSTEM
from tests.factories import activate, topic_of
from topics.access import services as access
from topics.catalogue.clusters import default_cluster
from topics.models import CredentialState, KafkaCluster, KafkaCredential
from topics.provisioning import credentials, handoff
from topics.provisioning.principals import principal_for


# --- credentials: rotation triggers, messages, the policy pass -----------------------------------------------

@pytest.fixture
def holding(world):
    """alice holds a grant; her credential is pending (not yet created on the broker)."""
    topic = topic_of(world.ns_payments)
    access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=topic, days=5, reason="x")
    return SimpleNamespace(topic=topic, credential=KafkaCredential.objects.get(principal__user=world.engineer))


@pytest.mark.django_db
def test_an_unknown_trigger_is_refused_and_policy_rotation_is_the_systems(world, holding):
    principal, cluster = holding.credential.principal, holding.topic.cluster
    activate(holding.credential)
    with pytest.raises(ValueError, match="trigger"):
        credentials.rotate(world.outsider, principal, cluster, overlap=timedelta(hours=1), trigger="scheduled")
    with pytest.raises(PermissionDenied):
        credentials.rotate(world.outsider, principal, cluster, overlap=timedelta(hours=1), trigger="policy")
    assert credentials.rotate(SYSTEM, principal, cluster, overlap=timedelta(hours=1), trigger="policy")


@pytest.mark.django_db
def test_a_first_credential_still_being_created_is_not_called_a_rotation(world, holding):
    with pytest.raises(ValidationError, match="still being created on the broker, retry shortly") as error:
        credentials.rotate(world.engineer, holding.credential.principal, holding.topic.cluster,
                           overlap=timedelta(hours=1))
    assert "under way" not in str(error.value)


@pytest.mark.django_db
def test_policy_rotation_skips_principals_already_rotating(world, holding):
    activate(holding.credential, age_days=200)
    credentials.rotate(world.engineer, holding.credential.principal, holding.topic.cluster,
                       overlap=timedelta(hours=1))  # retiring + pending now
    second = KafkaCredential.objects.get(principal__user=world.engineer, state=CredentialState.PENDING)
    activate(second, age_days=200)  # created on the broker, and (say) old: the retiring one still overlaps

    assert credentials.rotate_due() == []


@pytest.mark.django_db
def test_policy_rotation_logs_a_refused_rotation_and_goes_on(world, holding, settings, caplog):
    activate(holding.credential, age_days=200)
    settings.LOGWARDEN_ROTATION_OVERLAP_HOURS = settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS + 1

    assert credentials.rotate_due() == []
    assert "policy rotation of u.alice.a skipped" in caplog.text


# --- hand-off window by cluster --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_handoff_window_follows_the_retiring_credential_on_the_same_cluster_only(world, settings):
    principal = principal_for(world.engineer)
    here, there = default_cluster(), KafkaCluster.objects.create(name="second", bootstrap="localhost:1")
    far = timezone.now() + timedelta(hours=settings.LOGWARDEN_HANDOFF_HOURS + 48)
    KafkaCredential.objects.create(principal=principal, cluster=here, slot="a", state=CredentialState.RETIRING,
                                   retire_at=far)
    replacing = KafkaCredential.objects.create(principal=principal, cluster=here, slot="b")
    first_there = KafkaCredential.objects.create(principal=principal, cluster=there, slot="a")

    until = handoff.collect_until([replacing, first_there])

    assert until[replacing.pk] == far
    assert until[first_there.pk] < far - timedelta(hours=24)
