"""Celery tasks of the catalogue: thin wrappers around the services."""
from __future__ import annotations

from dataclasses import asdict

from celery import shared_task


@shared_task(name="topics.sync_topics", acks_late=True)
def sync_topics(topic_ids: list[int] | None = None) -> dict:
    from topics.services.topic_sync import sync_topics as run

    return asdict(run(topic_ids))


@shared_task(name="topics.discover_namespaces", acks_late=True)
def discover_namespaces() -> dict:
    from topics.services.namespace_source import discover_from_kubernetes

    return discover_from_kubernetes()
