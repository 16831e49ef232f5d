"""The embedded default's demo producer: records of the brief's shape on the demo namespaces' topics, written
as its own system principal (shipper.demo), which the broker refuses on any other topic."""
from __future__ import annotations

import random
import time

import pytest

from portal.core.audit import SYSTEM
from tests.helpers import eventually
from topics.access import services as access
from topics.catalogue import services as catalogue
from topics.kafka.adapter import produce
from topics.kafka.errors import KafkaAdapterError, KafkaAuthorizationError
from topics.logs import demo, services
from topics.logs.records import LogFilter
from topics.provisioning.principals import principal_for
from topics.provisioning.system_principals import SystemCredentialUnavailable

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]


def test_the_demo_producer_writes_shipper_records_as_its_own_principal(world, logs, celery_eager,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = catalogue.register_namespace(SYSTEM, name="payments-batch", owner_team=world.payments)
    cluster = logs.topic.cluster
    with django_capture_on_commit_callbacks(execute=True):
        demo.ensure(cluster)
        access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=batch.topics.get(), days=1,
                              reason="demo")

    began = int(time.time() * 1000)  # the demo topic's name is fixed: earlier runs may have left records

    def produced() -> int:
        try:
            return demo.produce_batch(cluster, random.Random(1), per_topic=3)
        except (SystemCredentialUnavailable, KafkaAdapterError):
            return 0
    assert eventually(produced, bool, "the demo principal's ACLs") == 3
    assert demo.connection(cluster).username.startswith(f"{demo.PRINCIPAL}.")

    page = services.read_page(world.engineer, batch, LogFilter(since_ms=began), page_size=10).page
    assert len(page.records) == 3 and not any(record.malformed for record in page.records)
    assert {record.namespace for record in page.records} == {"payments-batch"}
    assert all(record.pod and record.container and record.stream and record.labels for record in page.records)
    with pytest.raises(KafkaAuthorizationError):
        produce(demo.connection(cluster), logs.topic.name, [b"not a demo topic"])
