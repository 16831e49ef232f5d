"""The audit trail, read-only, for auditors and platform admins."""
from __future__ import annotations

from rest_framework import viewsets

from portal.api.support import PolicyPermission
from portal.models import AuditEvent
from topics import policy
from topics.audit.api.serializers import AuditEventSerializer
from topics.audit.filtersets import AuditEventFilterSet


class AuditEventPermission(PolicyPermission):
    """The viewset has no write methods (the trail is append-only): a reader's write attempt ends in 405."""

    read_rule = staticmethod(policy.can_read_audit)
    write_rule = staticmethod(policy.can_read_audit)


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Every decision and change, newest first, with the hash chain that makes it tamper-evident."""

    queryset = AuditEvent.objects.all()
    permission_classes = [AuditEventPermission]
    filterset_class = AuditEventFilterSet
    serializer_class = AuditEventSerializer
