"""The identity API: teams, group mappings, service accounts and their tokens.

Permissions: the classes of accounts.api.permissions plus querysets scoped by accounts.policy. Changes go
through the services, which validate, save and audit.
"""
from __future__ import annotations

from functools import cached_property

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import notifications, policy
from accounts.api.permissions import GroupMappingPermission, ServiceAccountPermission, TeamPermission
from accounts.api.serializers import (ApiTokenSerializer, GroupMappingSerializer, IssuedTokenSerializer,
                                      MarkedReadSerializer, NotificationSerializer,
                                      ServiceAccountCreateSerializer, ServiceAccountSerializer, TeamCreateSerializer,
                                      TeamDetailSerializer, TeamSerializer)
from accounts.filtersets import ApiTokenFilterSet, GroupMappingFilterSet, ServiceAccountFilterSet, TeamFilterSet
from accounts.models import DNS_LABEL, ApiToken, GroupMapping, Notification, ServiceAccount, Team
from accounts.services import mappings, service_accounts, tokens
from portal.api.support import AuditedWritesMixin, PerActionSerializerMixin, in_url, service_errors


class TeamViewSet(PerActionSerializerMixin, AuditedWritesMixin, viewsets.ModelViewSet):
    """Teams: anyone signed in reads them; platform admins change them. Deleting a team that still has
    service accounts is refused (409)."""

    queryset = Team.objects.all()
    lookup_field = "slug"
    lookup_value_regex = in_url(DNS_LABEL)
    permission_classes = [TeamPermission]
    filterset_class = TeamFilterSet
    serializer_class = TeamSerializer
    serializer_classes = {"create": TeamCreateSerializer, "retrieve": TeamDetailSerializer}


class GroupMappingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                          mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Which LDAP group gives which team and role. To change a mapping, add the new one and delete the old."""

    queryset = GroupMapping.objects.select_related("team")
    permission_classes = [GroupMappingPermission]
    filterset_class = GroupMappingFilterSet
    serializer_class = GroupMappingSerializer

    def perform_create(self, serializer) -> None:
        with service_errors():
            serializer.instance = mappings.create(self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance: GroupMapping) -> None:
        mappings.delete(self.request.user, instance)


class ServiceAccountViewSet(PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Service accounts: admins and auditors see all, people their teams' accounts, a service account itself.
    The team's people and admins create them and disable or enable them (`is_active`)."""

    lookup_field = "name"
    lookup_value_regex = in_url(DNS_LABEL)
    permission_classes = [ServiceAccountPermission]
    filterset_class = ServiceAccountFilterSet
    serializer_class = ServiceAccountSerializer
    serializer_classes = {"create": ServiceAccountCreateSerializer}

    def get_queryset(self):
        return policy.service_accounts_visible_to(
            self.request.user, ServiceAccount.objects.select_related("team", "created_by"))

    def perform_create(self, serializer) -> None:
        self.check_object_permissions(self.request, serializer.validated_data["team"])
        serializer.instance = service_accounts.create(self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        if "is_active" in serializer.validated_data:
            service_accounts.set_active(self.request.user, serializer.instance,
                                        serializer.validated_data["is_active"])


@extend_schema(parameters=[OpenApiParameter("service_account_name", str, OpenApiParameter.PATH, pattern=DNS_LABEL,
                                            description="The service account's name.")])
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """A service account's API tokens, by prefix. Issuing returns the secret once (`token`); no later read
    shows it. Whoever may see the account sees its tokens; its team's people and admins issue and revoke."""

    lookup_field = "prefix"
    lookup_value_regex = tokens.PREFIX_PATTERN
    permission_classes = [ServiceAccountPermission]
    filterset_class = ApiTokenFilterSet
    serializer_class = ApiTokenSerializer

    @cached_property
    def service_account(self) -> ServiceAccount:
        return get_object_or_404(policy.service_accounts_visible_to(self.request.user).select_related("team"),
                                 name=self.kwargs["service_account_name"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular introspecting: no URL kwargs
            return ApiToken.objects.none()
        return ApiToken.objects.filter(service_account=self.service_account).select_related("service_account")

    @extend_schema(responses={201: IssuedTokenSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        self.check_object_permissions(request, self.service_account)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(value_error_field="expires_at"):
            issued = tokens.issue(request.user, self.service_account, name=serializer.validated_data["name"],
                                  expires_at=serializer.validated_data.get("expires_at"))
        body = IssuedTokenSerializer(issued.token, context={"secret": issued.secret}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs) -> Response:
        token = self.get_object()
        tokens.revoke(request.user, token)
        return Response(self.get_serializer(token).data)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("unread", bool, description="Only the unread notifications.")]))
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first (`?unread=true` for the unread ones); nobody sees another's."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if self.request.query_params.get("unread") in ("1", "true"):
            return notifications.unread(self.request.user)
        return self.queryset.filter(recipient_id=self.request.user.pk)

    @extend_schema(request=None, responses=MarkedReadSerializer)
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        """Marks all of the caller's unread notifications as read."""
        return Response({"marked_read": notifications.mark_read(request.user)})
