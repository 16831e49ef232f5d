"""The audit trail as the API shows it: every field, read-only."""
from rest_framework import serializers

from portal.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["sequence", "occurred_at", "actor_label", "action", "target_type", "target_id", "target_label",
                  "data", "previous_hash", "hash"]
        read_only_fields = fields
