"""Rate limits with the default rates, against the real PostgreSQL (and the real broker for the health page):
failed sign-ins and refused API tokens per address, anonymous health probes, which also share one check."""
from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import html

pytestmark = pytest.mark.django_db


def test_after_ten_failed_sign_ins_not_even_the_right_password_is_checked(world):
    world.admin.set_password("the-right-password-1")
    world.admin.save()
    client = Client()
    for _ in range(10):
        assert "Too many" not in html(client.post("/accounts/login/", {"username": world.admin.username,
                                                                       "password": "wrong"}))

    response = client.post("/accounts/login/", {"username": world.admin.username,
                                                "password": "the-right-password-1"})

    assert response.status_code == 200 and "Too many failed sign-ins" in html(response)
    assert "_auth_user_id" not in client.session


def test_a_right_password_before_the_limit_signs_in(world):
    world.admin.set_password("the-right-password-1")
    world.admin.save()
    client = Client()
    client.post("/accounts/login/", {"username": world.admin.username, "password": "wrong"})

    response = client.post("/accounts/login/", {"username": world.admin.username,
                                                "password": "the-right-password-1"})

    assert response.status_code == 302


def test_after_twenty_refused_tokens_even_a_valid_token_waits(world):
    for _ in range(20):
        assert Client(HTTP_AUTHORIZATION="Bearer lw_nope_guess").get("/api/namespaces/").status_code == 401

    response = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}").get("/api/namespaces/")

    assert response.status_code == 429 and response["Content-Type"] == "application/json"
    assert "Retry-After" in response


def test_a_valid_token_is_never_counted(world):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}")

    assert all(client.get("/api/teams/").status_code == 200 for _ in range(25))


@pytest.mark.kafka
def test_anonymous_probes_share_one_check_for_a_few_seconds(client, admin_client, settings):
    real_kafka = settings.KAFKA
    settings.KAFKA = {**real_kafka, "bootstrap": "127.0.0.1:1"}
    assert client.get("/health/?format=json").status_code == 503

    settings.KAFKA = real_kafka  # the broker is back, but probes still get the shared result …
    assert client.get("/health/?format=json").status_code == 503
    assert admin_client.get("/health/?format=json").status_code == 200  # … while a signed-in person checks


def test_anonymous_probes_are_rate_limited_per_address(client):
    statuses = [client.get("/health/?format=json").status_code for _ in range(121)]

    assert 429 not in statuses[:120] and statuses[120] == 429
