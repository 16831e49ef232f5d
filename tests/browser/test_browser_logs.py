"""A granted person reads a namespace's logs in a real browser: signs in through LDAP, filters by pod, follows,
and sees a record produced on the real broker arrive through the event stream."""
from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.browser.support import ALICE, sign_in
from tests.logs_helpers import logs  # noqa: F401  (the fixture)
from topics.kafka.adapter import produce

pytestmark = [pytest.mark.ldap, pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(request):
    """alice (the world's engineer, the directory's alice) holds a grant on the logs fixture's namespace."""
    return request.getfixturevalue("logs")


def test_alice_filters_by_pod_follows_and_sees_a_new_record_arrive(live_server, page, catalogue, kafka_connection):
    namespace, topic = catalogue.namespace.name, catalogue.topic.name
    page.goto(f"{live_server.url}/namespaces/{namespace}/logs/")
    sign_in(page, ALICE)
    expect(page.get_by_role("heading", name=f"Logs of {namespace}")).to_be_visible()

    page.get_by_label("Pod").fill("-b")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#log-records tr")
    expect(rows).to_have_count(15)
    expect(rows.first).to_contain_text("line 29")
    expect(rows.first).to_contain_text("api-7d9f8-b")

    page.get_by_role("button", name="Follow").click()
    expect(page.locator("#follow-state")).to_have_text("Following…")
    time.sleep(2)  # the stream starts at the end of each partition once it is open
    produce(kafka_connection, topic, [json.dumps({"log": "fresh from the browser", "stream": "stdout", "kubernetes": {
        "namespace_name": namespace, "pod_name": "api-7d9f8-b", "container_name": "api"}}).encode()])
    expect(rows.first).to_contain_text("fresh from the browser", timeout=10_000)
    expect(rows).to_have_count(16)
    page.get_by_role("button", name="Stop following").click()
    expect(page.locator("#follow-state")).to_have_text("Stopped.")
