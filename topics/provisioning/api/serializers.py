"""Serializers of the provisioning API: Kafka credentials (never a stored password: a new one is shown once),
rotations and reconcile runs. They shape and pre-check input; topics.provisioning.credentials validates, saves
and audits. Related rows are named as everywhere in the API: principals (u.alice, sa.payments-etl) and
clusters."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from rest_framework import serializers

from topics.models import KafkaCluster, KafkaCredential, KafkaPrincipal, ReconcileRun

PRINCIPAL_HELP = "The principal's name: u.<username> or sa.<service account>."


class KafkaCredentialSerializer(serializers.ModelSerializer):
    """A SCRAM user of a principal on a cluster. Its password is never here: see show-password."""

    principal = serializers.SlugRelatedField(slug_field="name", read_only=True)
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    group_prefix = serializers.CharField(source="principal.group_prefix", read_only=True,
                                         help_text="Consumer groups of this principal must start with this.")
    has_pending_password = serializers.BooleanField(read_only=True,
                                                    help_text="A new password waits for its one-time display.")

    class Meta:
        model = KafkaCredential
        fields = ["id", "username", "principal", "cluster", "slot", "state", "created_at", "activated_at",
                  "retire_at", "has_pending_password", "group_prefix"]
        read_only_fields = fields


class RotateSerializer(serializers.Serializer):
    principal = serializers.SlugRelatedField(slug_field="name", queryset=KafkaPrincipal.objects.all(),
                                             help_text=PRINCIPAL_HELP)
    cluster = serializers.SlugRelatedField(slug_field="name", queryset=KafkaCluster.objects.all(),
                                           help_text="The cluster's name.")
    overlap_hours = serializers.IntegerField(
        default=settings.LOGWARDEN_ROTATION_OVERLAP_HOURS, min_value=0,
        max_value=settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS,
        help_text=f"How long the current password keeps working, 0 to LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS "
                  f"({settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS}).")
    force = serializers.BooleanField(default=False, help_text="Platform admins: rotate as a forced rotation "
                                                              "(e.g. after a leak).")

    def validate_overlap_hours(self, hours: int) -> timedelta:
        return timedelta(hours=hours)


class ShownPasswordSerializer(serializers.Serializer):
    password = serializers.CharField(help_text="Shown in this response only.")
    client_config = serializers.DictField(child=serializers.CharField(),
                                          help_text="The client settings with this password, keyed by file name; each "
                                                    "file's first lines name the client version it needs.")


class RunFailureSerializer(serializers.Serializer):
    """An item of a run the broker refused, or held back until its retry time (topics.provisioning.backoff)."""

    action = serializers.CharField(help_text="acl.create, acl.delete, scram_user.create, scram_user.delete, "
                                             "topic.sync (a topic, its name the item), topic.sync_cluster (the "
                                             "cluster's topics could not be read)")
    item = serializers.CharField()
    error = serializers.CharField(help_text="The broker's refusal (the last one, for an item held back)")
    attempts = serializers.IntegerField(required=False, help_text="Refusals in a row")
    retry_at = serializers.DateTimeField(required=False, help_text="When a run tries the item again")
    held = serializers.BooleanField(required=False, help_text="Not tried by this run: its retry time is later")


class ReconcileRunSerializer(serializers.ModelSerializer):
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    failures = RunFailureSerializer(many=True, read_only=True)

    class Meta:
        model = ReconcileRun
        fields = ["id", "cluster", "trigger", "started_at", "finished_at", "duration_seconds", "succeeded", "status",
                  "counts", "drift", "failures", "error"]
        read_only_fields = fields
