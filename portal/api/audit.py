"""The audit trail, read-only, for auditors and platform admins."""
from __future__ import annotations

from rest_framework import serializers, viewsets

from accounts import policy
from portal.api_support import PolicyPermission
from portal.filtersets import AuditEventFilterSet
from portal.models import AuditEvent


class AuditEventPermission(PolicyPermission):
    """The viewset has no write methods (the trail is append-only): a reader's write attempt ends in 405."""

    read_rule = staticmethod(policy.can_read_audit)
    write_rule = staticmethod(policy.can_read_audit)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["sequence", "occurred_at", "actor_label", "action", "target_type", "target_id", "target_label",
                  "data", "previous_hash", "hash"]
        read_only_fields = fields


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Every decision and change, newest first, with the hash chain that makes it tamper-evident."""

    queryset = AuditEvent.objects.all()
    permission_classes = [AuditEventPermission]
    filterset_class = AuditEventFilterSet
    serializer_class = AuditEventSerializer
