"""Celery tasks of the shipper app: thin wrappers around its services."""
from __future__ import annotations

from celery import shared_task

from shipper.discovery import services as discovery


@shared_task(name="shipper.discover_namespaces", acks_late=True)
def discover_namespaces() -> dict:
    return discovery.discover_from_kubernetes()
