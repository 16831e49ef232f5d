"""Follow mode under a real uvicorn process (the ASGI server `make run` and production use), on the real broker
and the test database: new records arrive as server-sent events, and revoking the grant ends the open stream
within 5 s, with one audit event for the stream."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection

from portal.devservices.base import free_port
from tests.helpers import ROOT, eventually
from topics.access import services as access
from topics.kafka.adapter import produce
from topics.models import GrantState
from topics.provisioning.principals import principal_for

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def uvicorn():
    """The portal served by uvicorn in its own process, on the test database."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1",
                               "--port", str(port), "--no-access-log"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            return False
    eventually(listening, bool, "uvicorn listening", seconds=30)
    yield port
    server.terminate()
    server.wait(10)


def events_of(response):
    """(event, data) pairs as they arrive; comments (heartbeats) are skipped."""
    event, data = "message", []
    while True:
        line = response.fp.readline()
        if not line:
            return
        line = line.decode().rstrip("\n")
        if not line:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])


def test_a_follow_stream_gets_new_records_and_ends_within_5_s_of_a_revoke(world, logs, uvicorn, kafka_connection):
    grant = access.grant_directly(world.admin, principal=principal_for(world.service_account.user),
                                  topic=logs.topic, days=1, reason="follow")
    conn = http.client.HTTPConnection("127.0.0.1", uvicorn, timeout=15)
    conn.request("GET", f"/api/namespaces/{logs.namespace.name}/logs/follow/?container=api",
                 headers={"Authorization": f"Bearer {world.token}", "Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200, response.read()[:500]
    assert response.getheader("Content-Type").startswith("text/event-stream")
    stream = events_of(response)

    time.sleep(1)  # the stream starts at the end of each partition
    produce(kafka_connection, logs.topic.name, [json.dumps({"log": "sidecar line", "kubernetes": {
        "container_name": "sidecar"}}).encode(), json.dumps({"log": "fresh line", "kubernetes": {
            "container_name": "api", "pod_name": "api-new"}}).encode()])
    event, record = next(stream)
    assert event == "record" and record["log"] == "fresh line" and record["kubernetes"]["pod_name"] == "api-new"

    access.end_grant(world.admin, grant, how=GrantState.REVOKED, reason="done")
    revoked = time.monotonic()
    event, data = next(stream)
    assert event == "end" and "grant" in data["reason"]
    assert time.monotonic() - revoked < 5
    assert next(stream, None) is None  # the server closed the stream
    conn.close()

    def follow_events():
        from portal.models import AuditEvent
        return list(AuditEvent.objects.filter(action="logs.read", data__mode="follow"))
    (audited,) = eventually(follow_events, bool, "the stream's audit event")
    assert audited.actor_id == world.service_account.user.pk and audited.data["records"] == 1
    assert audited.data["filter"] == {"container": "api"}
