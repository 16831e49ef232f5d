"""The access API: requestable principals, access requests and their decisions, grants, Kafka credentials and
reconcile runs.

Every rule is topics.services.access's or .credentials' (and accounts.policy's): each viewset lists what the
caller may see through the services' scopes, the permission class of each resource asks the services' rules
before any input is read, and changes go through the services, which validate, save and audit.
"""
from __future__ import annotations

from collections.abc import Callable

from django.db.models import Case, Exists, OuterRef, Prefetch, QuerySet, Value, When
from django.db.models.functions import Now
from django.http import Http404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import policy
from accounts.services.identity import identity_of
from portal.api_support import Conflict, PerActionSerializerMixin, PolicyPermission, service_errors
from topics.api.access_serializers import (AccessRequestCreateSerializer, AccessRequestDetailSerializer,
                                           AccessRequestSerializer, DecisionSerializer, GrantCreateSerializer,
                                           GrantSerializer, KafkaCredentialSerializer, PrincipalSerializer,
                                           QueuedItemSerializer, ReconcileRunSerializer, RequestItemSerializer,
                                           RevokeSerializer, RotateSerializer, ShownPasswordSerializer)
from topics.api.filtersets_access import KafkaCredentialFilterSet, ReconcileRunFilterSet, RequestItemFilterSet
from topics.filtersets_access import (AccessRequestFilterSet, GrantFilterSet, grants_visible_to, requests_visible_to,
                                      waiting_for)
from topics.models import (AccessRequest, Approval, CredentialHandoff, CredentialState, Grant, GrantState,
                           KafkaCredential, KafkaPrincipal, ReconcileRun, RequestItem)
from topics.services import access, credentials, handoff


# --- permissions: one class per resource ---------------------------------------------------------------------

class AccessPermission(permissions.BasePermission):
    """Anyone signed in (people, active service accounts) calls the access API and sees what the viewset's scope
    leaves; `object_rules` are the services' rules for an action on one object, asked before its input is read
    (the services ask them again)."""

    object_rules: dict[str, Callable[[object, object], bool]] = {}

    def has_permission(self, request, view) -> bool:
        return policy.can_browse_catalogue(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        rule = self.object_rules.get(view.action)
        return rule is None or rule(request.user, obj)


class RequestItemPermission(AccessPermission):
    message = ("You may not decide on this request (it is yours, for your own principal, or for a namespace you "
               "do not own).")
    object_rules = {"decide": access.may_decide}


class GrantPermission(AccessPermission):
    """Platform admins grant directly; owners and admins revoke; the holder releases."""

    message = "Platform admins grant directly; owners of the namespace and admins revoke; the holder releases."
    object_rules = {"revoke": access.may_revoke, "release": access.may_release}

    def has_permission(self, request, view) -> bool:
        if view.action == "create":
            return identity_of(request.user).is_admin  # what access.grant_directly requires
        return super().has_permission(request, view)


class ReconcileRunPermission(PolicyPermission):
    """Auditors and admins read the runs; the viewset has no write methods (405)."""

    read_rule = staticmethod(policy.can_read_audit)
    write_rule = staticmethod(policy.can_read_audit)


# --- what the caller may see -----------------------------------------------------------------------------------

ITEMS = RequestItem.objects.select_related("request__requester", "request__principal", "namespace").prefetch_related(
    Prefetch("approvals", queryset=Approval.objects.select_related("approver")))


class ScopedMixin:
    """`scoped(user)` is the queryset the caller may see; drf-spectacular introspects without a caller."""

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.scoped(self.request.user)

    def scoped(self, user) -> QuerySet:
        raise NotImplementedError


class PrincipalViewSet(ScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The principals the caller may request access for: themself, then their teams' active service accounts
    (a service account: itself)."""

    queryset = KafkaPrincipal.objects.annotate(
        kind=Case(When(user__service_account__isnull=True, then=Value("person")), default=Value("service_account")))
    permission_classes = [AccessPermission]
    serializer_class = PrincipalSerializer

    def scoped(self, user) -> QuerySet:
        return self.queryset.filter(pk__in=[p.pk for p in access.requestable_principals(user)])


class AccessRequestViewSet(ScopedMixin, PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Access requests: requesters see their own, namespace owners those asking for their namespaces, auditors
    and admins all. Anyone signed in asks (for themself or their teams' service accounts); the requester
    withdraws a pending request."""

    queryset = AccessRequest.objects.select_related("requester", "principal").prefetch_related(
        Prefetch("items", queryset=RequestItem.objects.select_related("namespace").prefetch_related(
            Prefetch("approvals", queryset=Approval.objects.select_related("approver")),
            Prefetch("grants", queryset=Grant.objects.select_related(
                "principal", "topic__namespace", "topic__cluster", "request_item", "granted_by", "ended_by")))))
    permission_classes = [AccessPermission]
    filterset_class = AccessRequestFilterSet
    serializer_class = AccessRequestSerializer
    serializer_classes = {"retrieve": AccessRequestDetailSerializer, "create": AccessRequestCreateSerializer}

    def scoped(self, user) -> QuerySet:
        return requests_visible_to(user, self.queryset)

    def _detail(self, request: AccessRequest, status_code: int = status.HTTP_200_OK) -> Response:
        shown = self.scoped(self.request.user).get(pk=request.pk)
        return Response(AccessRequestDetailSerializer(shown, context=self.get_serializer_context()).data,
                        status=status_code)

    @extend_schema(responses={201: AccessRequestDetailSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            created = access.create_request(request.user, **serializer.validated_data)
        return self._detail(created, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AccessRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs) -> Response:
        """Closes the request's undecided namespaces; access already granted stays until it ends."""
        access_request = self.get_object()
        with service_errors():
            access.withdraw(request.user, access_request)
        return self._detail(access_request)


class ApprovalQueueViewSet(ScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The request items waiting for the caller's decision (pending, theirs to decide, not decided by them yet),
    oldest request first. Decide with POST /api/request-items/{id}/decide/."""

    queryset = ITEMS.order_by("request__created_at", "namespace__name")
    permission_classes = [AccessPermission]
    filterset_class = RequestItemFilterSet
    serializer_class = QueuedItemSerializer

    def scoped(self, user) -> QuerySet:
        return self.queryset.filter(pk__in=[item.pk for item in waiting_for(user)])


class RequestItemViewSet(ScopedMixin, PerActionSerializerMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One namespace of a request the caller may see, and its decision by an owner of that namespace."""

    queryset = ITEMS
    permission_classes = [RequestItemPermission]
    serializer_class = RequestItemSerializer
    serializer_classes = {"decide": DecisionSerializer}

    def scoped(self, user) -> QuerySet:
        return self.queryset.filter(request__in=requests_visible_to(user))

    @extend_schema(responses=RequestItemSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, *args, **kwargs) -> Response:
        """Approves or rejects the namespace; enough approvals (its sensitivity's policy) grant it."""
        item = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            access.decide(request.user, item, **serializer.validated_data)
        return Response(RequestItemSerializer(self.get_object(), context=self.get_serializer_context()).data)


class GrantViewSet(ScopedMixin, PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Grants: of the caller's own principals (and their teams' service accounts), on the namespaces they own,
    all for auditors and admins. Owners and admins revoke, the holder releases; a grant's ACLs leave the broker
    with the reconcile that follows. Platform admins grant directly, without a request."""

    queryset = Grant.objects.select_related("principal", "topic__namespace", "topic__cluster", "request_item",
                                            "granted_by", "ended_by")
    permission_classes = [GrantPermission]
    filterset_class = GrantFilterSet
    serializer_class = GrantSerializer
    serializer_classes = {"create": GrantCreateSerializer, "revoke": RevokeSerializer}

    def scoped(self, user) -> QuerySet:
        return grants_visible_to(user, self.queryset)

    def _shown(self, grant: Grant, status_code: int = status.HTTP_200_OK) -> Response:
        shown = self.queryset.get(pk=grant.pk)
        return Response(GrantSerializer(shown, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(responses={201: GrantSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            grant = access.grant_directly(request.user, **serializer.validated_data)
        return self._shown(grant, status.HTTP_201_CREATED)

    def _end(self, grant: Grant, how: str, reason: str = "") -> Response:
        with service_errors():
            grant = access.end_grant(self.request.user, grant, how=how, reason=reason)
        return self._shown(grant)

    @extend_schema(responses=GrantSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs) -> Response:
        """Owners of its namespace and admins end the grant, with a reason."""
        grant = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._end(grant, GrantState.REVOKED, serializer.validated_data["reason"])

    @extend_schema(request=None, responses=GrantSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, *args, **kwargs) -> Response:
        """The holder gives the access up before it ends."""
        return self._end(self.get_object(), GrantState.RELEASED)


# --- credentials -----------------------------------------------------------------------------------------------

class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "Gone."
    default_code = "gone"


class ClientConfigRenderer(renderers.BaseRenderer):
    """One form of the client configuration as a text file (?format=…); an error as its JSON text."""

    media_type = "text/plain"
    charset = "utf-8"
    file_name: str  # its key in credentials.client_config

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict) and self.file_name in data:
            return data[self.file_name].encode(self.charset)
        return renderers.JSONRenderer().render(data)


def _client_config_renderer(format_: str, file_name: str) -> type[ClientConfigRenderer]:
    return type(f"{format_.title()}ConfigRenderer", (ClientConfigRenderer,), {"format": format_,
                                                                           "file_name": file_name})


CLIENT_CONFIG_RENDERERS = [_client_config_renderer(f, name) for f, name in (
    ("librdkafka", "librdkafka.properties"), ("java", "java.properties"), ("kcat", "kcat.sh"),
    ("python", "consumer.py"))]


class KafkaCredentialViewSet(ScopedMixin, PerActionSerializerMixin, viewsets.ReadOnlyModelViewSet):
    """Kafka credentials (SCRAM users) of the principals the caller manages: their own, their teams' service
    accounts' (admins: all). A service account, with its token, manages its own. A new password is shown
    once; a rotation creates the other slot's user and keeps the current password working for the overlap."""

    queryset = KafkaCredential.objects.select_related("principal", "cluster")
    permission_classes = [AccessPermission]
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

    def scoped(self, user) -> QuerySet:
        waiting = CredentialHandoff.objects.filter(credential=OuterRef("pk"), expires_at__gt=Now())
        return credentials.credentials_visible_to(user).annotate(has_pending_password=Exists(waiting))

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
                       OpenApiTypes.OBJECT, description="librdkafka.properties, java.properties, kcat.sh and "
                                                        "consumer.py, by file name."),
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


class ReconcileRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Reconcile runs, newest first: what each changed on the broker (counts) and found changed out of band
    (drift). Auditors and admins."""

    queryset = ReconcileRun.objects.select_related("cluster")
    permission_classes = [ReconcileRunPermission]
    filterset_class = ReconcileRunFilterSet
    serializer_class = ReconcileRunSerializer
