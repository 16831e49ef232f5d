"""The audit trail, read-only, for auditors and platform admins."""
from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action

from portal.api.support import PolicyPermission
from portal.models import AuditEvent
from topics import policy
from portal.core import exports
from topics.audit import evidence, services
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

    @extend_schema(
        parameters=[OpenApiParameter("file_format", str, enum=["csv", "json"], required=True,
                                     description="The file's format.")],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=(
                       "The filtered events, newest first, at most 100,000: CSV with a last line "
                       "`#logwarden-evidence …`, or JSON with an `evidence` member: the latest signed checkpoint and "
                       "a signature over the content (`manage.py audit verify-export`).")),
                   (200, "application/json"): OpenApiResponse(OpenApiTypes.ANY),
                   400: OpenApiResponse(description="A bad filter or file_format.")})
    @action(detail=False, methods=["get"], pagination_class=None)
    def download(self, request) -> HttpResponse:
        """The filtered trail as a sealed file."""
        events = self.filter_queryset(self.get_queryset())
        fmt = request.query_params.get("file_format", "")
        parameters = {k: v for k, v in request.query_params.items() if k != "file_format"}
        try:
            return evidence.download(services.events_table(events, parameters), fmt, "audit-trail")
        except exports.UnknownFormat as exc:
            raise exceptions.ValidationError({"file_format": [str(exc)]}) from None
