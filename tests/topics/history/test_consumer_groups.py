"""Consumer-group activity on the real broker: the sampler notes a read of a topic by the principal whose group
moved its committed offsets there, and nothing while they stand still."""
from __future__ import annotations

import pytest

from portal.core.audit import SYSTEM
from tests.factories import person
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.history import services as history
from topics.kafka.adapter import produce, read_records
from topics.models import KafkaCredential, LastRead, ReadChannel
from topics.provisioning import handoff
from topics.provisioning.principals import principal_for

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]


def test_a_group_that_moved_counts_as_a_read_and_one_standing_still_does_not(
        world, unique, kafka_connection, kafka_admin, celery_eager, django_capture_on_commit_callbacks):
    holder = person(f"g{unique}", "team-payments")
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"grp-{unique}", owner_team=world.payments)
        access.grant_directly(world.admin, principal=principal_for(holder), topic=namespace.topics.get(), days=3,
                              reason="consumer group tests")
    topic, principal = namespace.topics.get(), principal_for(holder)
    credential = KafkaCredential.objects.get(principal=principal)
    as_holder = kafka_connection.as_user(credential.username, handoff.claim(credential))
    produce(kafka_connection, topic.name, [b"one"])
    assert read_records(as_holder, topic.name, group=f"{principal.name}.job") == [b"one"]

    assert kafka_admin.consumer_group_offsets([f"{principal.name}."]) == {
        f"{principal.name}.job": {topic.name: {"0": 1}}}
    assert history.sample_consumer_groups(topic.cluster) >= 1
    first = LastRead.objects.get(principal=principal, topic=topic, channel=ReadChannel.CONSUMER_GROUP).last_read_at
    assert history.sample_consumer_groups(topic.cluster) == 0  # nothing moved

    produce(kafka_connection, topic.name, [b"two"])
    assert read_records(as_holder, topic.name, group=f"{principal.name}.job") == [b"two"]
    assert history.sample_consumer_groups(topic.cluster) == 1
    assert LastRead.objects.get(principal=principal, topic=topic,
                                channel=ReadChannel.CONSUMER_GROUP).last_read_at > first
