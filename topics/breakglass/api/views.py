"""The break-glass API: uses and their reviews (auditors and admins: all; one's own; those on one's namespaces),
breaking the glass (the break-glass role), and the review that closes a use's finding (someone else)."""
from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.support import PerActionSerializerMixin, ScopedMixin, service_errors
from topics import policy
from topics.breakglass import services as breakglass
from topics.breakglass.api.serializers import (BreakGlassCreateSerializer, BreakGlassReviewSerializer,
                                               BreakGlassUseSerializer)
from topics.breakglass.filtersets import BreakGlassUseFilterSet
from topics.models import BreakGlassUse


class BreakGlassPermission(permissions.BasePermission):
    message = "The break-glass role breaks the glass; someone other than the responder reviews a use."

    def has_permission(self, request, view) -> bool:
        if view.action == "create":
            return policy.may_break_glass(request.user)
        return policy.can_browse_catalogue(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return view.action != "review" or policy.may_review_break_glass(request.user, obj)


class BreakGlassUseViewSet(ScopedMixin, PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Break-glass uses: immediate, short access without approval, provisioned at once and ending on its own; an
    open finding until reviewed."""

    queryset = BreakGlassUse.objects.select_related("user", "principal", "namespace", "reviewed_by") \
        .prefetch_related("grants")
    permission_classes = [BreakGlassPermission]
    filterset_class = BreakGlassUseFilterSet
    serializer_class = BreakGlassUseSerializer
    serializer_classes = {"create": BreakGlassCreateSerializer, "review": BreakGlassReviewSerializer}

    def scoped(self, user) -> QuerySet:
        return policy.break_glass_visible_to(user, self.queryset)

    def _shown(self, use: BreakGlassUse, status_code: int = status.HTTP_200_OK) -> Response:
        shown = self.queryset.get(pk=use.pk)
        return Response(BreakGlassUseSerializer(shown, context=self.get_serializer_context()).data,
                        status=status_code)

    @extend_schema(responses={201: BreakGlassUseSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            use = breakglass.break_glass(request.user, **serializer.validated_data)
        return self._shown(use, status.HTTP_201_CREATED)

    @extend_schema(responses=BreakGlassUseSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, *args, **kwargs) -> Response:
        """Closes the use's finding with a verdict and a comment."""
        use = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            use = breakglass.review(request.user, use, **serializer.validated_data)
        return self._shown(use)
