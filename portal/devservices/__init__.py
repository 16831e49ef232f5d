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
}


def state_root(profile: str) -> Path:
    return PROJECT_ROOT / ".devservices" / profile


def service(name: str, profile: str) -> Service:
    try:
        module_name, class_name = SERVICE_CLASSES[name].split(":")
    except KeyError:
        raise ServiceError(f"unknown service '{name}'; known: {', '.join(SERVICE_CLASSES)}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(state_root(profile))


__all__ = ["SERVICE_CLASSES", "Service", "ServiceError", "service", "state_root"]
