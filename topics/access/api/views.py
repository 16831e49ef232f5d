"""The access API: requestable principals, access requests and their decisions, grants.

Every rule is topics.policy's: each viewset lists what the caller may see through its `*_visible_to` scopes,
the permission class of each resource asks its rules before any input is read, and changes go through
topics.access.services, which validates, saves and audits.
"""
from __future__ import annotations

from collections.abc import Callable

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import ServiceAccount
from portal.api.support import PerActionSerializerMixin, ScopedMixin, service_errors
from topics import policy
from topics.access import services as access
from topics.access.api.serializers import (AccessRequestCreateSerializer, AccessRequestDetailSerializer,
                                           AccessRequestSerializer, DecisionSerializer, GrantCreateSerializer,
                                           GrantSerializer, PrincipalSerializer, QueuedItemSerializer,
                                           RequestItemSerializer, RevokeSerializer)
from topics.access.filtersets import AccessRequestFilterSet, GrantFilterSet, RequestItemFilterSet
from topics.models import AccessRequest, Approval, Grant, GrantState, KafkaPrincipal, RequestItem
from topics.provisioning.principals import requestable_principals

# --- permissions: one class per resource ---------------------------------------------------------------------

class AccessPermission(permissions.BasePermission):
    """Anyone signed in (people, active service accounts) calls the access API and sees what the viewset's scope
    leaves; `object_rules` are topics.policy's rules for an action on one object, asked before its input is read
    (the services ask them again)."""

    object_rules: dict[str, Callable[[object, object], bool]] = {}

    def has_permission(self, request, view) -> bool:
        return policy.can_browse_catalogue(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        rule = self.object_rules.get(view.action)
        return rule is None or rule(request.user, obj)


class RequestItemPermission(AccessPermission):
    message = ("You may not decide on this request (it is yours, for a principal you can act as, or for a "
               "namespace you do not own).")
    object_rules = {"decide": policy.may_decide}


class GrantPermission(AccessPermission):
    """Platform admins grant directly; owners and admins revoke; the holder releases."""

    message = "Platform admins grant directly; owners of the namespace and admins revoke; the holder releases."
    object_rules = {"revoke": policy.may_revoke, "release": policy.may_release}

    def has_permission(self, request, view) -> bool:
        if view.action == "create":
            return policy.may_grant_directly(request.user)
        return super().has_permission(request, view)


# --- what the caller may see -----------------------------------------------------------------------------------

ITEMS = RequestItem.objects.select_related("request__requester", "request__principal", "namespace").prefetch_related(
    Prefetch("approvals", queryset=Approval.objects.select_related("approver")))


class PrincipalViewSet(viewsets.GenericViewSet):
    """The principals the caller may request access for: themself, then their teams' active service accounts
    (a service account: itself). Listing them creates none (a principal is created when a request names it)."""

    queryset = KafkaPrincipal.objects.none()  # the list is requestable_principals, not a queryset
    permission_classes = [AccessPermission]
    serializer_class = PrincipalSerializer

    def list(self, request, *args, **kwargs) -> Response:
        principals = sorted(requestable_principals(request.user), key=lambda principal: principal.name)
        programs = set(ServiceAccount.objects.filter(user__in=[p.user_id for p in principals])
                       .values_list("user_id", flat=True))
        for principal in principals:
            principal.kind = "service_account" if principal.user_id in programs else "person"
        page = self.paginate_queryset(principals)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AccessRequestViewSet(ScopedMixin, PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Access requests: requesters see their own, namespace owners those asking for their namespaces, auditors
    and admins all. Anyone signed in asks (for themself or their teams' service accounts); the requester
    withdraws a pending request."""

    queryset = AccessRequest.objects.select_related("requester", "principal")
    permission_classes = [AccessPermission]
    filterset_class = AccessRequestFilterSet
    serializer_class = AccessRequestSerializer
    serializer_classes = {"retrieve": AccessRequestDetailSerializer, "create": AccessRequestCreateSerializer}

    def scoped(self, user) -> QuerySet:
        """The requests `user` may see, each with the items they may see (request_items_visible_to)."""
        items = policy.request_items_visible_to(user, RequestItem.objects.select_related("namespace", "request"))
        items = items.prefetch_related(
            Prefetch("approvals", queryset=Approval.objects.select_related("approver")),
            Prefetch("grants", queryset=Grant.objects.select_related(
                "principal", "topic__namespace", "topic__cluster", "request_item", "granted_by", "ended_by")))
        return policy.requests_visible_to(user, self.queryset).prefetch_related(Prefetch("items", queryset=items))

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
        return self.queryset.filter(pk__in=[item.pk for item in policy.waiting_for(user)])


class RequestItemViewSet(ScopedMixin, PerActionSerializerMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One namespace of a request the caller may see, and its decision by an owner of that namespace."""

    queryset = ITEMS
    permission_classes = [RequestItemPermission]
    serializer_class = RequestItemSerializer
    serializer_classes = {"decide": DecisionSerializer}

    def scoped(self, user) -> QuerySet:
        return policy.request_items_visible_to(user, self.queryset)

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
        return policy.grants_visible_to(user, self.queryset)

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
