"""Namespaces get their log topic on the real broker, with their retention class's configs."""
from __future__ import annotations

import pytest

from portal.core.audit import SYSTEM
from portal.models import AuditEvent
from topics.catalogue import services as catalogue
from topics.models import RetentionClass, Topic, TopicState
from topics.provisioning.topic_sync import sync_topics

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]


def test_registered_namespace_gets_its_topic_after_commit(kafka_admin, unique, celery_eager,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        namespace = catalogue.register_namespace(SYSTEM, name=f"pay-{unique}")

    topic = Topic.objects.get(namespace=namespace)
    assert topic.name == f"logs.pay-{unique}" and topic.state == TopicState.READY
    state = kafka_admin.describe_topics([topic.name])[topic.name]
    assert state.configs == {"retention.ms": str(7 * 86_400_000), "retention.bytes": "-1",
                             "cleanup.policy": "delete"}
    assert AuditEvent.objects.filter(action="topic.create", target_id=str(topic.pk)).count() == 1


def test_sync_is_idempotent_and_a_class_change_reaches_the_broker(kafka_admin, unique, celery_eager,
                                                                  django_capture_on_commit_callbacks):
    retention = RetentionClass.objects.create(name=f"rc-{unique}", retention_ms=3_600_000)
    namespace = catalogue.register_namespace(SYSTEM, name=f"chk-{unique}", retention_class=retention)
    topic = namespace.topics.get()
    assert sync_topics([topic.pk]).created == [topic.name]
    assert sync_topics([topic.pk]).unchanged == [topic.name]

    with django_capture_on_commit_callbacks(execute=True):
        catalogue.save_retention_class(SYSTEM, retention, retention_ms=7_200_000, retention_bytes=1_048_576)

    configs = kafka_admin.describe_topics([topic.name])[topic.name].configs
    assert configs["retention.ms"] == "7200000" and configs["retention.bytes"] == "1048576"
    assert AuditEvent.objects.filter(action="topic.reconfigure", target_id=str(topic.pk)).exists()
    assert AuditEvent.objects.filter(action="retention_class.update").exists()


def test_broker_outage_marks_topics_in_error_and_a_later_sync_repairs(kafka_admin, unique, settings):
    namespace = catalogue.register_namespace(SYSTEM, name=f"out-{unique}")
    topic = namespace.topics.get()
    cluster = topic.cluster
    real_bootstrap = cluster.bootstrap
    cluster.bootstrap = "127.0.0.1:1"
    cluster.save()
    settings.KAFKA = {**settings.KAFKA, "timeout_seconds": 2}

    report = sync_topics([topic.pk])

    topic.refresh_from_db()
    assert topic.state == TopicState.ERROR and "KAFKA_BOOTSTRAP=127.0.0.1:1" in topic.last_error
    assert cluster.name in report.errors
    cluster.bootstrap = real_bootstrap
    cluster.save()
    assert sync_topics().created == [topic.name]
    topic.refresh_from_db()
    assert topic.state == TopicState.READY and topic.last_error == ""


def test_guardrail_refuses_a_retention_above_the_platform_maximum(settings):
    from django.core.exceptions import ValidationError

    settings.LOGWARDEN_MAX_RETENTION_MS = 86_400_000
    with pytest.raises(ValidationError) as error:
        catalogue.save_retention_class(SYSTEM, RetentionClass(name="forever"), retention_ms=2 * 86_400_000)
    assert "retention_ms" in error.value.message_dict
    assert not RetentionClass.objects.filter(name="forever").exists()
