"""Recorded history the other tables do not keep: when each principal last read each topic, through the portal
or with a consumer group of its own on the broker (the stale-access report), and the committed offsets last
seen per consumer group (so the sampler can tell a group that moved from one that did not)."""
from __future__ import annotations

from django.db import models


class ReadChannel(models.TextChoices):
    PORTAL = "portal", "Through the portal"
    CONSUMER_GROUP = "consumer_group", "A consumer group on the broker"


class LastRead(models.Model):
    """The latest read of `topic` by `principal` through `channel`: one row each, moved forward on every read."""

    principal = models.ForeignKey("topics.KafkaPrincipal", on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey("topics.Topic", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=ReadChannel.choices)
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "topic", "channel"], name="one_last_read")]

    def __str__(self) -> str:
        return f"{self.principal_id} read {self.topic_id} ({self.channel}) at {self.last_read_at:%Y-%m-%d %H:%M}"


class ConsumerGroupOffsets(models.Model):
    """A consumer group's committed offsets ({topic: {partition: offset}}) when the sampler last looked."""

    cluster = models.ForeignKey("topics.KafkaCluster", on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=255)
    offsets = models.JSONField(default=dict)
    sampled_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "group"], name="one_offsets_per_group")]

    def __str__(self) -> str:
        return f"{self.group} on {self.cluster_id} at {self.sampled_at:%Y-%m-%d %H:%M}"
