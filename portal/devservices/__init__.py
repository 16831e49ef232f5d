"""The project's own harness for the real servers used by `make run` and `make test`."""
from __future__ import annotations

import importlib
from pathlib import Path

from .base import PROJECT_ROOT, Service, ServiceError

# name -> "module:Class"; imported lazily so one service's missing tool never breaks the others
SERVICE_CLASSES = {
    "postgres": "portal.devservices.postgres:PostgresService",
    "redis": "portal.devservices.redis:RedisService",
    "kafka": "portal.devservices.kafka:KafkaService",
    "ldap": "portal.devservices.ldap:LdapService",
    "kube": "portal.devservices.kube:KubeService",
    "minio": "portal.devservices.minio:MinioService",
}
# `run` tells its command which profile it runs under, so the command can restart one of the profile's servers
PROFILE_VARIABLE = "LOGWARDEN_DEVSERVICES_PROFILE"


def state_root(profile: str) -> Path:
    return PROJECT_ROOT / ".devservices" / profile


def persistent(profile: str) -> bool:
    """Development profiles (`dev`, the one of `make run`, and `dev-*`) keep their servers' data on disk
    across restarts: users, topics and logs survive. Test and benchmark profiles start empty every time."""
    return profile == "dev" or profile.startswith("dev-")


def service(name: str, profile: str, *, keep_data: bool | None = None) -> Service:
    """The profile's service; `keep_data` overrides the profile's rule, for a test that stops a server and
    starts it again on the same data (`Service.discard_data` gives it a fresh start first)."""
    try:
        module_name, class_name = SERVICE_CLASSES[name].split(":")
    except KeyError:
        raise ServiceError(f"unknown service '{name}'; known: {', '.join(SERVICE_CLASSES)}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(state_root(profile), persistent=persistent(profile) if keep_data is None else keep_data)


__all__ = ["PROFILE_VARIABLE", "SERVICE_CLASSES", "Service", "ServiceError", "persistent", "service", "state_root"]
