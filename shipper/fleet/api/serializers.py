"""Serializers of the fleet API. Fleets are named by name, clusters by name, revisions by number."""
from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from shipper.fleet import diff
from shipper.fleet.models import CanaryNode, Fleet, FleetRevision
from shipper.fleet.services import CREATE_FIELDS, SETTINGS_FIELDS
from topics.models import KafkaCluster

READ_ONLY = ("live_revision", "drift", "drift_checked_at", "created_at", "principal")


class FleetSerializer(serializers.ModelSerializer):
    """A fleet; changing settings needs a reason (recorded with the revision it makes)."""

    kafka_cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    live_revision = serializers.IntegerField(source="live_revision.number", read_only=True, allow_null=True)
    principal = serializers.CharField(source="principal_name", read_only=True)
    reason = serializers.CharField(write_only=True, max_length=settings.LOGWARDEN_MAX_TEXT_LENGTH)

    class Meta:
        model = Fleet
        fields = ("name", "kafka_cluster", "kube_namespace", *SETTINGS_FIELDS, *READ_ONLY, "reason")
        read_only_fields = ("name", "kube_namespace", *READ_ONLY)


class FleetCreateSerializer(FleetSerializer):
    kafka_cluster = serializers.SlugRelatedField(slug_field="name", queryset=KafkaCluster.objects.all())
    reason = serializers.CharField(write_only=True, required=False, max_length=settings.LOGWARDEN_MAX_TEXT_LENGTH)

    class Meta(FleetSerializer.Meta):
        fields = (*CREATE_FIELDS, *READ_ONLY, "reason")
        read_only_fields = READ_ONLY


class FleetRevisionSerializer(serializers.ModelSerializer):
    fleet = serializers.SlugRelatedField(slug_field="name", read_only=True)
    rollback_of = serializers.IntegerField(source="rollback_of.number", read_only=True, allow_null=True)

    class Meta:
        model = FleetRevision
        fields = ("id", "fleet", "number", "content_hash", "author_label", "reason", "rollback_of", "created_at",
                  "applied_at")
        read_only_fields = fields


class FleetRevisionDetailSerializer(FleetRevisionSerializer):
    """Also the rendered config, the manifests (the Secret without any value), the routing and the diff against
    the revision before."""

    diff = serializers.SerializerMethodField()

    class Meta(FleetRevisionSerializer.Meta):
        fields = (*FleetRevisionSerializer.Meta.fields, "config_name", "config", "manifests", "routes", "diff")
        read_only_fields = fields

    def get_diff(self, revision: FleetRevision) -> list[str]:
        previous = revision.fleet.revisions.filter(number__lt=revision.number).order_by("-number").first()
        return diff.unified(previous, revision)


class ApplySerializer(serializers.Serializer):
    revision = serializers.IntegerField(required=False, min_value=1,
                                        help_text="The revision's number; default: the latest")
    dry_run = serializers.BooleanField(default=False, help_text="Validate on the server, write nothing")


class RollbackSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=settings.LOGWARDEN_MAX_TEXT_LENGTH)


class RotateCredentialSerializer(serializers.Serializer):
    overlap_hours = serializers.IntegerField(min_value=1, max_value=settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS,
                                             default=settings.LOGWARDEN_ROTATION_OVERLAP_HOURS)


class RotatedCredentialSerializer(serializers.Serializer):
    """The new slot, pending until the reconciler makes it (never a password)."""

    username = serializers.CharField()
    state = serializers.CharField()
    overlap_hours = serializers.IntegerField()


class PlanItemSerializer(serializers.Serializer):
    object = serializers.CharField()
    action = serializers.ChoiceField(choices=["create", "update", "unchanged"])
    differences = serializers.ListField(child=serializers.CharField())


class ApplyResultSerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    content_hash = serializers.CharField()
    dry_run = serializers.BooleanField()
    outcomes = serializers.DictField(child=serializers.CharField())
    plan = PlanItemSerializer(many=True)


class PodHealthSerializer(serializers.Serializer):
    name = serializers.CharField()
    node = serializers.CharField()
    phase = serializers.CharField()
    ready = serializers.BooleanField()
    revision_hash = serializers.CharField()
    revision = serializers.IntegerField(allow_null=True)
    starting = serializers.BooleanField(help_text="Not ready because no container has run yet")


class FleetHealthSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["healthy", "rolling out", "degraded", "not applied"])
    desired = serializers.IntegerField()
    current = serializers.IntegerField()
    ready = serializers.IntegerField()
    updated = serializers.IntegerField()
    unavailable = serializers.IntegerField()
    misscheduled = serializers.IntegerField(help_text="Pods on nodes that should no longer run one (a node lost)")
    live_hash = serializers.CharField()
    pods = PodHealthSerializer(many=True)


class CanaryNodeSerializer(serializers.ModelSerializer):
    """One node's canary as last read: its last line (sequence number, when written on the node, when it reached
    the broker), the delay between the two, and the sequence numbers never read."""

    fleet = serializers.SlugRelatedField(slug_field="name", read_only=True)
    silent = serializers.BooleanField(read_only=True, help_text="No line written on the node for three intervals")

    class Meta:
        model = CanaryNode
        fields = ("fleet", "node", "pod", "run_started_at", "last_seq", "last_written_at", "last_arrived_at",
                  "last_delay_ms", "max_delay_ms", "lines", "missing", "missing_seqs", "duplicates", "silent",
                  "read_at")
        read_only_fields = fields
