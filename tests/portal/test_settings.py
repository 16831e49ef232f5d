"""Bad configuration gives a message naming the setting, never a stack trace."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.helpers import run_manage


@pytest.mark.parametrize(("env", "message"), [
    ({"KAFKA_BOOTSTRAP": "not-an-address"}, "KAFKA_BOOTSTRAP: expected host:port"),
    ({"KAFKA_BOOTSTRAP": "127.0.0.1:99999"}, "KAFKA_BOOTSTRAP: expected host:port"),
    ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG: expected one of"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL: expected a URL starting with redis://"),
    ({"LDAP_URI": "127.0.0.1:389"}, "LDAP_URI: expected a URL starting with ldap://"),
    ({"KAFKA_BOOTSTRAP": "127.0.0.1:9092"}, "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: both must be set"),
    ({"LOGWARDEN_KUBECONFIG": "/nonexistent/kubeconfig"}, "LOGWARDEN_KUBECONFIG/KUBECONFIG: no file"),
    ({"LOGWARDEN_DIRECTORY_SYNC_MINUTES": "0"}, "LOGWARDEN_DIRECTORY_SYNC_MINUTES: must be at least 1"),
    ({"LOGWARDEN_ENV": "production", "DJANGO_DEBUG": "1"}, "DJANGO_DEBUG: must be off"),
    ({"LOGWARDEN_ENV": "production", "DJANGO_DEBUG": "0"}, "DJANGO_SECRET_KEY: set a random value"),
    ({"LOGWARDEN_MAX_TEXT_LENGTH": "0"}, "LOGWARDEN_MAX_TEXT_LENGTH: must be at least 1"),
    ({"LOGWARDEN_API_MAX_PAGE_SIZE": "many"}, "LOGWARDEN_API_MAX_PAGE_SIZE: expected a whole number"),
    ({"LOGWARDEN_REVIEW_REMINDER_DAYS": "7,0"}, "LOGWARDEN_REVIEW_REMINDER_DAYS: whole days before the deadline"),
    ({"LOGWARDEN_REVIEW_REMINDER_DAYS": "a week"}, "LOGWARDEN_REVIEW_REMINDER_DAYS: whole days before the deadline"),
    ({"LOGWARDEN_BREAK_GLASS_MAX_HOURS": "0"}, "LOGWARDEN_BREAK_GLASS_MAX_HOURS: must be at least 1"),
])
def test_bad_setting_is_named_without_a_traceback(env, message):
    result = run_manage("check", **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# one key per purpose, random-looking (Django's deployment check refuses a key of few distinct characters)
PRODUCTION = {"LOGWARDEN_ENV": "production", "DJANGO_DEBUG": "0",
              "DJANGO_SECRET_KEY": "s3ss10n-k3y-" + "".join(chr(65 + i % 58) for i in range(50)),
              "LOGWARDEN_AUDIT_KEY": "aud1t-k3y-" + "".join(chr(66 + i % 57) for i in range(50)),
              "LOGWARDEN_HANDOFF_KEY": "h4nd0ff-k3y-" + "".join(chr(67 + i % 56) for i in range(50)),
              "LOGWARDEN_SYSTEM_CREDENTIAL_KEY": "syst3m-k3y-" + "".join(chr(68 + i % 55) for i in range(50)),
              "LOGWARDEN_CHECKPOINT_KEY": Ed25519PrivateKey.from_private_bytes(bytes(range(32))).private_bytes(
                  serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                  serialization.NoEncryption()).decode()}


def test_production_starts_with_real_keys_and_debug_off():
    result = run_manage("check", **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_production_passes_djangos_deployment_checks_for_https_cookies_and_framing():
    result = run_manage("check", "--deploy", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    # HSTS, SSL redirect, secure and HttpOnly session cookie, secure CSRF cookie, X-Frame-Options DENY
    for warning in ("security.W004", "security.W008", "security.W012", "security.W013", "security.W016",
                    "security.W019"):
        assert warning not in result.stdout + result.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({"LOGWARDEN_AUDIT_KEY": ""}, "LOGWARDEN_AUDIT_KEY: set a random value"),
    ({"LOGWARDEN_HANDOFF_KEY": "short"}, "LOGWARDEN_HANDOFF_KEY: set a random value"),
    ({"LOGWARDEN_AUDIT_KEY": PRODUCTION["DJANGO_SECRET_KEY"]}, "each needs its own value"),
    ({"LOGWARDEN_SYSTEM_CREDENTIAL_KEY": ""}, "LOGWARDEN_SYSTEM_CREDENTIAL_KEY: set a random value"),
    ({"LOGWARDEN_SYSTEM_CREDENTIAL_KEY": PRODUCTION["LOGWARDEN_HANDOFF_KEY"]}, "each needs its own value"),
    ({"LOGWARDEN_CHECKPOINT_KEY": ""}, "LOGWARDEN_CHECKPOINT_KEY: set an Ed25519 private key"),
    ({"LOGWARDEN_CHECKPOINT_KEY": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"},
     "LOGWARDEN_CHECKPOINT_KEY: not an Ed25519 private key"),
    ({"LOGWARDEN_CHECKPOINT_KEY": "/nonexistent/checkpoint.pem"}, "LOGWARDEN_CHECKPOINT_KEY: not an Ed25519"),
    ({"LOGWARDEN_SECURE_COOKIES": "0"}, "LOGWARDEN_SECURE_COOKIES: must be on"),
    ({"LOGWARDEN_SSL_REDIRECT": "off"}, "LOGWARDEN_SSL_REDIRECT: must be on"),
    ({"LOGWARDEN_HSTS_SECONDS": "0"}, "LOGWARDEN_HSTS_SECONDS: must be on"),
    ({"LOGWARDEN_CONTENT_SECURITY_POLICY": " "}, "LOGWARDEN_CONTENT_SECURITY_POLICY: must be on"),
    ({"LOGWARDEN_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, "LOGWARDEN_PROXY_SSL_HEADER: expected 'Header-Name: value'"),
    ({"LOGWARDEN_SESSION_HOURS": "0"}, "LOGWARDEN_SESSION_HOURS: must be at least 1"),
])
def test_production_refuses_to_start_without_its_safeguards(env, message):
    result = run_manage("check", **{**PRODUCTION, **env})

    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({"DATABASE_URL": "postgress://user:hunter2@db/lw"}, "got 'postgress://user:***@db/lw'"),
    ({"DATABASE_URL": "user:hunter2@db/lw"}, "got 'user:***@db/lw'"),
    ({"DATABASE_URL": "postgres://user:hunter2@db:port/lw"}, "DATABASE_URL: not a valid URL"),
    ({"DATABASE_URL": "postgresql:/user:hun/ter@2@db/lw"}, "DATABASE_URL: expected a URL"),
    ({"REDIS_URL": "redis:/:hunter2@cache:6379/0"}, "got 'redis:***@cache:6379/0'"),
    ({"LDAP_URI": "ldapss://cn=bind:hunter2@ldap"}, "got 'ldapss://cn=bind:***@ldap'"),
    ({"KAFKA_BOOTSTRAP": "admin:hunter2@kafka:9092"}, "KAFKA_BOOTSTRAP: expected host:port"),
    ({"LOGWARDEN_ENV": "postgres://user:hunter2@db/lw"}, "LOGWARDEN_ENV: expected one of"),
])
def test_a_password_in_a_bad_setting_is_masked(env, message):
    result = run_manage("check", **env)

    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "hunter2" not in result.stderr + result.stdout and "hun/ter" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.kafka
def test_check_services_names_an_unreachable_kafka():
    result = run_manage("check_services", KAFKA_BOOTSTRAP="127.0.0.1:1", KAFKA_SASL_USERNAME="admin",
                        KAFKA_SASL_PASSWORD="unused", KAFKA_TIMEOUT_SECONDS="2")
    assert result.returncode != 0
    assert "no Kafka broker answered at KAFKA_BOOTSTRAP=127.0.0.1:1" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_directory_sync_runs_every_15_minutes_by_default(settings):
    assert settings.CELERY_BEAT_SCHEDULE["sync-directory"] == {"task": "accounts.sync_directory", "schedule": 900.0}
