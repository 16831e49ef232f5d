"""The provisioning API: Kafka credentials (a new password shown once, client settings, rotations) and
reconcile runs.

Every rule is topics.policy's: the credentials are listed through its `credentials_visible_to` scope, the
permission class of each resource asks its rules before any input is read, and changes go through
topics.provisioning.credentials, which validates, saves and audits.
"""
from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Now
from django.http import Http404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.support import Conflict, PerActionSerializerMixin, PolicyPermission, ScopedMixin, service_errors
from topics import policy
from topics.models import CredentialHandoff, CredentialState, KafkaCredential, ReconcileRun
from topics.provisioning import credentials, handoff
from topics.provisioning.api.serializers import (KafkaCredentialSerializer, ReconcileRunSerializer, RotateSerializer,
                                                 ShownPasswordSerializer)
from topics.provisioning.filtersets import KafkaCredentialFilterSet, ReconcileRunFilterSet

# --- permissions: one class per resource ---------------------------------------------------------------------

class CredentialPermission(PolicyPermission):
    """Anyone signed in (people, active service accounts) calls it and sees the credentials the viewset's scope
    leaves; topics.provisioning.credentials refuses the rest (showing or rotating another principal's password, a
    forced rotation by anyone but an admin)."""

    read_rule = staticmethod(policy.can_browse_catalogue)
    write_rule = staticmethod(policy.can_browse_catalogue)


class ReconcileRunPermission(PolicyPermission):
    """Auditors and admins read the runs; the viewset has no write methods (405)."""

    read_rule = staticmethod(policy.can_read_audit)
    write_rule = staticmethod(policy.can_read_audit)


# --- credentials -----------------------------------------------------------------------------------------------

class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "Gone."
    default_code = "gone"


class ClientConfigRenderer(renderers.BaseRenderer):
    """One form of the client configuration as a text file (?format=…); any other answer (an error, OPTIONS)
    is JSON like the rest of the API (KafkaCredentialViewSet.finalize_response)."""

    media_type = "text/plain"
    charset = "utf-8"
    file_name: str  # its key in credentials.client_config

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data[self.file_name].encode(self.charset)


def _client_config_renderer(format_: str, file_name: str) -> type[ClientConfigRenderer]:
    return type(f"{format_.title()}ConfigRenderer", (ClientConfigRenderer,), {"format": format_,
                                                                           "file_name": file_name})


CLIENT_FILES_DESCRIPTION = "The four forms by file name, each headed by the client it needs: " + "; ".join(
    f"{name}: {needs}" for name, needs in credentials.CLIENT_REQUIREMENTS.items()) + "."
CLIENT_CONFIG_RENDERERS = [_client_config_renderer(f, name) for f, name in (
    ("librdkafka", "librdkafka.properties"), ("java", "java.properties"), ("kcat", "kcat.sh"),
    ("python", "consumer.py"))]


class KafkaCredentialViewSet(ScopedMixin, PerActionSerializerMixin, viewsets.ReadOnlyModelViewSet):
    """Kafka credentials (SCRAM users) of the principals the caller manages: their own, their teams' service
    accounts' (admins: all). A service account, with its token, manages its own. A new password is shown
    once; a rotation creates the other slot's user and keeps the current password working for the overlap."""

    queryset = KafkaCredential.objects.select_related("principal", "cluster")
    permission_classes = [CredentialPermission]
    filterset_class = KafkaCredentialFilterSet
    serializer_class = KafkaCredentialSerializer
    serializer_classes = {"rotate": RotateSerializer}

    def perform_content_negotiation(self, request, force=False):
        """An unknown ?format= is bad input naming the parameter (DRF answers 404)."""
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            known = ", ".join(renderer.format for renderer in self.get_renderers())
            raise exceptions.ValidationError({"format": [f"One of: {known}."]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        """Only the file itself is text: an error or an OPTIONS answer is JSON, whichever form was asked for."""
        renderer = getattr(request, "accepted_renderer", None)
        data = getattr(response, "data", None)
        if isinstance(renderer, ClientConfigRenderer) and not (isinstance(data, dict) and renderer.file_name in data):
            request.accepted_renderer, request.accepted_media_type = renderers.JSONRenderer(), \
                renderers.JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def scoped(self, user) -> QuerySet:
        waiting = CredentialHandoff.objects.filter(credential=OuterRef("pk"), expires_at__gt=Now())
        return policy.credentials_visible_to(user).annotate(has_pending_password=Exists(waiting))

    @extend_schema(request=None, responses={
        200: ShownPasswordSerializer,
        409: OpenApiResponse(description="The credential is not created on the broker yet: retry shortly."),
        410: OpenApiResponse(description="Already shown, or not collected in time: rotate to get a new one.")})
    @action(detail=True, methods=["post"], url_path="show-password")
    def show_password(self, request, *args, **kwargs) -> Response:
        """The credential's new password and the client settings with it, in this response only."""
        credential = self.get_object()
        try:
            password = credentials.show_password(request.user, credential)
        except handoff.HandoffUnavailable as exc:
            if credential.state == CredentialState.PENDING:
                raise Conflict(f"{credential.username} is not created on the broker yet, retry shortly.") from None
            raise Gone(f"The password cannot be shown: {exc}. Rotate the credential to get a new one.") from None
        response = Response({"password": password,
                             "client_config": credentials.client_config(credential, password=password)})
        add_never_cache_headers(response)
        return response

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=[r.format for r in CLIENT_CONFIG_RENDERERS],
                                     description="One form as a text file; default: all four as JSON.")],
        responses={(200, "application/json"): OpenApiResponse(
                       OpenApiTypes.OBJECT, description=CLIENT_FILES_DESCRIPTION),
                   (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="One form, as a file.")})
    @action(detail=True, methods=["get"], url_path="client-config",
            renderer_classes=[renderers.JSONRenderer, *CLIENT_CONFIG_RENDERERS])
    def client_config(self, request, *args, **kwargs) -> Response:
        """Client settings without the password (a placeholder, or the KAFKA_PASSWORD environment variable)."""
        credential = self.get_object()
        response = Response(credentials.client_config(credential))
        file_name = getattr(request.accepted_renderer, "file_name", None)
        if file_name is not None:
            response["Content-Disposition"] = f'attachment; filename="{credential.username}-{file_name}"'
        return response

    @extend_schema(responses={201: KafkaCredentialSerializer})
    @action(detail=False, methods=["post"])
    def rotate(self, request, *args, **kwargs) -> Response:
        """Starts a rotation: the new credential (pending until the reconcile creates it on the broker, then its
        password is shown once); the current one retires after the overlap."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(renamed={"overlap": "overlap_hours"}):
            new = credentials.rotate(request.user, data["principal"], data["cluster"], overlap=data["overlap_hours"],
                                     trigger="forced" if data["force"] else "holder")
        return Response(KafkaCredentialSerializer(self.get_queryset().get(pk=new.pk)).data,
                        status=status.HTTP_201_CREATED)


# --- reconcile runs --------------------------------------------------------------------------------------------

class ReconcileRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Reconcile runs, newest first: what each changed on the broker (counts) and found changed out of band
    (drift). Auditors and admins."""

    queryset = ReconcileRun.objects.select_related("cluster")
    permission_classes = [ReconcileRunPermission]
    filterset_class = ReconcileRunFilterSet
    serializer_class = ReconcileRunSerializer
