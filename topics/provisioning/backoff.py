"""Per-item retries with exponential backoff (client-go's per-key rate limiter, for the reconciler's items).

An item the broker refuses (a binding, a SCRAM user, a topic) gets a ReconcileRetry row: the next run may try it
again at `retry_at`, LOGWARDEN_RECONCILE_RETRY_SECONDS after the first refusal, twice as long after each further
one, never longer than LOGWARDEN_RECONCILE_RETRY_MAX_SECONDS. Until then every run holds the item back (no broker
call) and applies everything else: the hold is per item, so other items, revocations and other clusters never
wait for it. The row goes as soon as the item reaches the broker or the plan no longer has it.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from django.conf import settings

from topics.models import KafkaCluster, ReconcileRetry

# the run's changes, by audit action (a topic's sync: "topic.sync", the topic's name its item; the topic records
# its error too); a sync of the cluster's topics that fails as a whole ("topic.sync_cluster") is not backed off
BACKED_OFF = frozenset({"acl.delete", "scram_user.delete", "scram_user.create", "acl.create", "topic.sync"})
ERROR_LENGTH = 2000

Key = tuple[str, str]  # (action, item)


def delay(attempts: int, *, first: float, cap: float) -> timedelta:
    """The wait after the `attempts`-th refusal in a row: first, 2×first, 4×first, … at most cap."""
    return timedelta(seconds=min(cap, first * 2 ** min(attempts - 1, 62)))


def held(cluster: KafkaCluster, now: datetime) -> dict[Key, ReconcileRetry]:
    """The items not to try before their retry time."""
    return {(row.action, row.item): row for row in ReconcileRetry.objects.filter(cluster=cluster, retry_at__gt=now)}


def as_failure(row: ReconcileRetry) -> dict:
    """A held item as the run's failures list it: its last refusal and when it is tried again."""
    return {"action": row.action, "item": row.item, "error": row.error, "attempts": row.attempts,
            "retry_at": row.retry_at.isoformat(), "held": True}


def settle(cluster: KafkaCluster, failures: Sequence[dict], held_back: Collection[Key], now: datetime) -> None:
    """After a run: one more attempt for each item refused now (its failure gets `attempts` and `retry_at`),
    and no row any more for items that reached the broker or are no longer planned (neither refused nor held)."""
    refused = {(f["action"], f["item"]): f for f in failures if f["action"] in BACKED_OFF}
    rows = {(row.action, row.item): row for row in ReconcileRetry.objects.filter(cluster=cluster)}
    ReconcileRetry.objects.filter(pk__in=[row.pk for key, row in rows.items()
                                          if key not in refused and key not in held_back]).delete()
    first, cap = settings.LOGWARDEN_RECONCILE_RETRY_SECONDS, settings.LOGWARDEN_RECONCILE_RETRY_MAX_SECONDS
    changed = []
    for key, failure in refused.items():
        row = rows.get(key) or ReconcileRetry(cluster=cluster, action=key[0], item=key[1], first_failed_at=now)
        row.attempts += 1
        row.error = failure["error"][:ERROR_LENGTH]
        row.retry_at = now + delay(row.attempts, first=first, cap=cap)
        failure.update(attempts=row.attempts, retry_at=row.retry_at.isoformat())
        changed.append(row)
    ReconcileRetry.objects.bulk_create([row for row in changed if row.pk is None])
    ReconcileRetry.objects.bulk_update([row for row in changed if row.pk is not None],
                                       ["attempts", "error", "retry_at"])
