"""The health page reports every component the portal depends on, from the real servers."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.redis]


@pytest.mark.django_db
def test_health_reports_each_real_component(admin_client, redis_url, kafka_connection):
    response = admin_client.get("/health/?format=json")

    components = {c["component"]: c for c in response.json()["components"]}
    assert components["database"]["state"] == "ok"
    assert components["redis"]["state"] == "ok"
    assert components["kafka"]["state"] == "ok" and kafka_connection.bootstrap in components["kafka"]["detail"]
    assert components["kubernetes"]["state"] == "ok"
    assert response.status_code == 200


@pytest.mark.django_db
def test_health_page_shows_a_down_broker_by_its_setting(admin_client, settings):
    settings.KAFKA = {**settings.KAFKA, "bootstrap": "127.0.0.1:1"}

    response = admin_client.get("/health/")

    assert response.status_code == 503
    assert b"no Kafka broker answered at KAFKA_BOOTSTRAP=127.0.0.1:1" in response.content
    assert settings.KAFKA["sasl_password"].encode() not in response.content


@pytest.mark.django_db
def test_database_is_postgresql_in_the_test_suite():
    from django.db import connection

    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_anonymous_probes_get_states_without_addresses(client, settings, kafka_connection):
    settings.KAFKA = {**settings.KAFKA, "bootstrap": "127.0.0.1:1"}

    response = client.get("/health/?format=json")

    assert response.status_code == 503
    kafka = next(c for c in response.json()["components"] if c["component"] == "kafka")
    assert kafka == {"component": "kafka", "state": "down", "detail": "sign in for details"}
    assert b"127.0.0.1" not in response.content
