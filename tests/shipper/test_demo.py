"""The embedded default's log flow (`manage.py demo_logs`, started by `make run`): demo pods' lines reach their
namespace's topic through the real collector, written by the local fleet's shipper principal; a namespace the
catalogue does not know lands in the quarantine. Real broker and API server; committed rows (the demo runs in a
thread of its own, as the command runs in a process of its own)."""
from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection

from portal.core.audit import SYSTEM
from portal.devservices.otelcol import otelcol_binary
from shipper.demo import services as demo
from shipper.fleet.models import Fleet
from topics.catalogue import services as catalogue
from topics.catalogue.clusters import connection_for, default_cluster
from topics.kafka.adapter import TopicReader

pytestmark = [pytest.mark.kafka, pytest.mark.kube, pytest.mark.django_db(transaction=True)]


def test_demo_pods_lines_flow_to_their_topics_through_the_real_collector(world, unique, kubeconfig, settings,
                                                                         tmp_path, celery_eager):
    settings.KUBECONFIG = kubeconfig
    namespace = catalogue.register_namespace(SYSTEM, name=f"demo-{unique}", owner_team=world.payments)
    topic = namespace.topics.get().name
    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            demo.run(tmp_path, otelcol_binary, stop=stop, interval=0.2)
        except BaseException as exc:  # noqa: BLE001 (reported by the test below)
            failures.append(exc)
        finally:
            connection.close()  # the thread's own: the test database is dropped after the test

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    admin = connection_for(default_cluster())
    try:
        found = []
        with TopicReader(admin, topic, group=f"demo-{unique}") as reader:
            deadline = time.monotonic() + 90
            while not found and time.monotonic() < deadline and not failures:
                found = [json.loads(record) for record in reader.poll(0.5)]
        assert not failures, failures
        assert found, (tmp_path / "collector" / "collector.log").read_text()[-3000:]
        record = found[0]
        assert record["kubernetes"]["namespace_name"] == namespace.name
        assert record["kubernetes"]["labels"] == {"app": "api", "demo": "true"}
        assert record["kubernetes"]["host"] == demo.NODE and " seq=" in record["log"]
        fleet = Fleet.objects.get(name=demo.FLEET)
        with TopicReader(admin, fleet.quarantine_topic, group=f"demo-q-{unique}") as reader:
            deadline = time.monotonic() + 30
            quarantined = []
            while demo.UNKNOWN_NAMESPACE not in {r["kubernetes"]["namespace_name"] for r in quarantined} \
                    and time.monotonic() < deadline:
                quarantined += [json.loads(record) for record in reader.poll(0.5)]
        homes = {r["kubernetes"]["namespace_name"] for r in quarantined}
        assert demo.UNKNOWN_NAMESPACE in homes and namespace.name not in homes
    finally:
        stop.set()
        runner.join(30)
    assert not runner.is_alive() and not failures
