"""The access-review API: campaigns (auditors and admins start and follow them), review items (the reviewers'
and those who run reviews') and the caller's review queue. Every rule is topics.policy's; changes go through
topics.reviews.services."""
from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.support import PerActionSerializerMixin, ScopedMixin, service_errors
from topics import policy
from topics.models import ReviewCampaign, ReviewItem
from topics.reviews import services as reviews
from topics.reviews.api.serializers import (ReviewCampaignCreateSerializer, ReviewCampaignSerializer,
                                            ReviewDecisionSerializer, ReviewItemSerializer)
from topics.reviews.filtersets import ReviewCampaignFilterSet, ReviewItemFilterSet


class CampaignPermission(permissions.BasePermission):
    message = "Auditors and platform admins run access reviews."

    def has_permission(self, request, view) -> bool:
        return policy.may_run_reviews(request.user)


class ReviewItemPermission(permissions.BasePermission):
    """Anyone signed in sees the items they review (the viewset's scope); deciding needs may_review."""

    message = ("You may not review this grant (the campaign is closed, it is your own access or a principal you "
               "can act as, or you are not one of its reviewers).")

    def has_permission(self, request, view) -> bool:
        return policy.can_browse_catalogue(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return view.action != "decide" or policy.may_review(request.user, obj)


class ReviewCampaignViewSet(ScopedMixin, PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Access-review campaigns with their progress. Starting one makes an item of every active grant in its scope
    and tells the reviewers; at the deadline what nobody reviewed gets the no-response action."""

    queryset = ReviewCampaign.objects.select_related("created_by").prefetch_related("namespaces", "teams")
    permission_classes = [CampaignPermission]
    filterset_class = ReviewCampaignFilterSet
    serializer_class = ReviewCampaignSerializer
    serializer_classes = {"create": ReviewCampaignCreateSerializer}

    def scoped(self, user) -> QuerySet:
        return reviews.with_progress(policy.campaigns_visible_to(user, self.queryset))

    @extend_schema(responses={201: ReviewCampaignSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            campaign = reviews.start_campaign(request.user, **serializer.validated_data)
        shown = self.scoped(request.user).get(pk=campaign.pk)
        return Response(ReviewCampaignSerializer(shown, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


ITEMS = ReviewItem.objects.select_related("campaign", "grant__principal", "grant__topic__namespace", "decided_by")


class ReviewItemViewSet(ScopedMixin, PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """The grants of review campaigns: all for auditors and admins, for others those on the namespaces they own
    (and, for fallback reviewers, those no owner could review). Reviewers decide with POST …/decide/."""

    queryset = ITEMS.order_by("campaign_id", "pk")
    permission_classes = [ReviewItemPermission]
    filterset_class = ReviewItemFilterSet
    serializer_class = ReviewItemSerializer
    serializer_classes = {"decide": ReviewDecisionSerializer}

    def scoped(self, user) -> QuerySet:
        return policy.review_items_visible_to(user, self.queryset)

    @extend_schema(responses=ReviewItemSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, *args, **kwargs) -> Response:
        """Certify, shorten (to valid_until) or revoke the grant, with a comment; a revocation takes its ACLs off
        the broker with the reconcile that follows, a shortened grant's leave at its new end."""
        item = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            reviews.decide(request.user, item, **serializer.validated_data)
        # reloaded without get_object: its permission (may_review) no longer holds once decided
        decided = self.get_queryset().get(pk=item.pk)
        return Response(ReviewItemSerializer(decided, context=self.get_serializer_context()).data)


class ReviewQueueViewSet(ScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The review items waiting for the caller's decision, soonest deadline first."""

    queryset = ITEMS.order_by("campaign__deadline", "pk")
    permission_classes = [ReviewItemPermission]
    filterset_class = ReviewItemFilterSet
    serializer_class = ReviewItemSerializer

    def scoped(self, user) -> QuerySet:
        return self.queryset.filter(pk__in=[item.pk for item in policy.review_queue(user)])
