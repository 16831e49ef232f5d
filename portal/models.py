"""The audit trail: one append-only row per decision or change, in the order they were recorded.

Each event carries the hash of its predecessor and its own hash over a canonical encoding, so the trail can be
verified end to end (`portal.core.audit.verify_chain`); the database refuses updates and deletes of events
(see migration 0002). Callers only ever use `portal.core.audit.record(...)`.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    sequence = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # kept as text too, so the trail still says who acted after the account is gone
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=100, db_index=True)  # "<domain>.<verb>", e.g. "namespace.register"
    target_type = models.CharField(max_length=100, blank=True, db_index=True)
    target_id = models.CharField(max_length=200, blank=True, db_index=True)
    target_label = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["target_type", "target_id", "sequence"])]

    def __str__(self) -> str:
        return (f"#{self.sequence} {self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} "
                f"{self.target_label}")


class AuditVerification(models.Model):
    """One verification of the trail (topics.audit.services.verify_trail): the chain's broken links and the
    checkpoints that disagree with it. The trail itself records only the failures."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField()
    trigger = models.CharField(max_length=20)  # "schedule" or "command"
    events_checked = models.BigIntegerField()
    head_sequence = models.BigIntegerField()
    checkpoints_checked = models.IntegerField()
    broken_links = models.JSONField(default=list, blank=True)  # [{"sequence", "kind"}]
    checkpoint_problems = models.JSONField(default=list, blank=True)  # [{"key", "sequence", "problem"}]

    class Meta:
        ordering = ["-started_at"]

    @property
    def intact(self) -> bool:
        return not self.broken_links and not self.checkpoint_problems

    def __str__(self) -> str:
        return f"verification {self.started_at:%Y-%m-%d %H:%M:%S}: {'intact' if self.intact else 'FAILED'}"
