"""Kafka credentials: shown once, rotated without downtime on the real broker, described as client config."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.models import AuditEvent
from topics.kafka.adapter import TopicReader, produce, read_records
from topics.kafka.errors import KafkaUnavailable
from topics.models import CredentialState, KafkaCredential
from topics.provisioning import credentials, handoff
from topics.provisioning.principals import principal_for
from topics.provisioning.reconciler import reconcile

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]


def test_rotation_keeps_a_running_consumer_going_and_the_old_password_ends_with_the_overlap(
        granted, kafka_connection, django_capture_on_commit_callbacks):
    holder, topic, old = granted
    old_password = credentials.show_password(holder, old)
    stop, consumed, failures = threading.Event(), [], []

    def consume_with_the_old_credential():
        try:
            with TopicReader(kafka_connection.as_user(old.username, old_password), topic.name,
                             group=f"{old.principal.group_prefix}app") as reader:
                while not stop.is_set():
                    consumed.extend(reader.poll(0.5))
        except Exception as exc:  # noqa: BLE001 - any failure of the running consumer fails the test
            failures.append(exc)

    consumer = threading.Thread(target=consume_with_the_old_credential)
    consumer.start()
    try:
        produce(kafka_connection, topic.name, [b"before-1", b"before-2"])
        with django_capture_on_commit_callbacks(execute=True):
            new = credentials.rotate(holder, old.principal, topic.cluster, overlap=timedelta(hours=1))
        new.refresh_from_db()
        assert new.slot != old.slot and new.state == CredentialState.ACTIVE
        new_password = credentials.show_password(holder, new)
        produce(kafka_connection, topic.name, [b"during-1", b"during-2"])
        assert read_records(kafka_connection.as_user(new.username, new_password), topic.name,
                            group=f"{new.principal.group_prefix}new", max_records=4) == [
            b"before-1", b"before-2", b"during-1", b"during-2"]
        deadline = time.monotonic() + 15
        while len(consumed) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        consumer.join(30)
    assert failures == [] and consumed == [b"before-1", b"before-2", b"during-1", b"during-2"]

    # the overlap window closes: the old user and its ACLs leave the broker
    KafkaCredential.objects.filter(pk=old.pk).update(retire_at=timezone.now() - timedelta(seconds=1))
    reconcile(topic.cluster, trigger="periodic")
    old.refresh_from_db()
    assert old.state == CredentialState.REMOVED
    with pytest.raises(KafkaUnavailable, match="refused the credentials"):
        read_records(kafka_connection.as_user(old.username, old_password), topic.name,
                     group=f"{old.principal.group_prefix}late", timeout=5)
    assert read_records(kafka_connection.as_user(new.username, new_password), topic.name,
                        group=f"{new.principal.group_prefix}still", max_records=4)


def test_the_password_is_shown_once(granted):
    holder, _, credential = granted
    assert credentials.show_password(holder, credential)
    with pytest.raises(handoff.HandoffUnavailable, match="already shown"):
        credentials.show_password(holder, credential)
    assert AuditEvent.objects.filter(action="credential.display", target_id=str(credential.pk)).count() == 1


def test_only_the_holder_their_team_or_an_admin_see_and_rotate(granted, world):
    holder, topic, credential = granted
    with pytest.raises(PermissionDenied):
        credentials.show_password(world.outsider, credential)
    with pytest.raises(PermissionDenied):
        credentials.rotate(world.outsider, credential.principal, topic.cluster, overlap=timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        credentials.rotate(world.engineer, credential.principal, topic.cluster, overlap=timedelta(hours=1),
                           trigger="forced")
    forced = credentials.rotate(world.admin, credential.principal, topic.cluster, overlap=timedelta(0),
                                trigger="forced")
    assert forced.state == CredentialState.PENDING


@pytest.mark.parametrize(("overlap", "message"), [(timedelta(hours=-1), "Between 0"),
                                                  (timedelta(days=365), "Between 0")])
def test_overlap_out_of_range_is_refused(granted, overlap, message):
    holder, topic, credential = granted
    with pytest.raises(ValidationError, match=message):
        credentials.rotate(holder, credential.principal, topic.cluster, overlap=overlap)


def test_a_second_rotation_during_the_overlap_is_refused(granted):
    holder, topic, credential = granted
    credentials.rotate(holder, credential.principal, topic.cluster, overlap=timedelta(hours=2))
    with pytest.raises(ValidationError, match="already under way"):
        credentials.rotate(holder, credential.principal, topic.cluster, overlap=timedelta(hours=2))


def test_rotation_of_a_principal_without_grants_is_refused(world, granted):
    _, topic, _ = granted
    idle = principal_for(world.engineer)
    with pytest.raises(ValidationError) as error:
        credentials.rotate(world.engineer, idle, topic.cluster, overlap=timedelta(hours=1))
    assert "holds no grant" in str(error.value.message_dict["principal"])


def test_policy_rotates_credentials_older_than_the_sensitivity_allows(granted):
    holder, topic, credential = granted
    assert credentials.rotate_due() == []
    KafkaCredential.objects.filter(pk=credential.pk).update(activated_at=timezone.now() - timedelta(days=91))

    (rotated,) = credentials.rotate_due()

    credential.refresh_from_db()
    assert credential.state == CredentialState.RETIRING and rotated.principal == credential.principal
    assert AuditEvent.objects.filter(action="credential.rotate", data__trigger="policy").exists()


def test_client_config_names_everything_but_the_password(granted, kafka_connection):
    holder, topic, credential = granted
    config = credentials.client_config(credential)

    for text in config.values():
        assert credential.username in text and kafka_connection.bootstrap in text
        assert f"{credential.principal.group_prefix}reader" in text
    assert credentials.PASSWORD_PLACEHOLDER in config["librdkafka.properties"]
    assert '"${KAFKA_PASSWORD:?' in config["kcat.sh"] and topic.name in config["kcat.sh"]
    compile(config["consumer.py"], "consumer.py", "exec")
    with_password = credentials.client_config(credential, password="s3cret-value")
    assert all("s3cret-value" in text for text in with_password.values())
