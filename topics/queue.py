"""Enqueuing provisioning work: the one module services call to make the broker converge.

Work is enqueued once the surrounding transaction commits, and by task name, so this module imports no task:
`topics.tasks` imports the services, the services import this module, and nothing imports back. The tasks
are registered at start-up (`TopicsConfig.ready`), so without a broker they still run in-process.
Reconciles are level-triggered (each reads the whole desired state of its cluster), so a cluster named
several times in one call is enqueued once, and a lost task only delays what the periodic pass repairs.
"""
from __future__ import annotations

from collections.abc import Iterable

from celery import current_app
from django.db import transaction

RECONCILE_CLUSTER = "topics.reconcile_cluster"
SYNC_TOPICS = "topics.sync_topics"


def reconcile(cluster_ids: Iterable[int], *, trigger: str = "change") -> None:
    """A reconcile of each of these clusters, after commit."""
    for cluster_id in sorted(set(cluster_ids)):
        _after_commit(RECONCILE_CLUSTER, cluster_id, trigger)


def sync_topics(topic_ids: Iterable[int]) -> None:
    """The broker sync of these topics (existence and configs), after commit."""
    ids = sorted(set(topic_ids))
    if ids:
        _after_commit(SYNC_TOPICS, ids)


def _after_commit(task: str, *args) -> None:
    transaction.on_commit(lambda: current_app.signature(task, args=args).delay())
