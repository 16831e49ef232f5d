"""The history API: the point-in-time answers, a namespace's timeline and the reports, the same rows as the pages
(topics.history.views) for the same people (topics.policy.may_see_history; owners see their namespaces)."""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions

from topics import policy
from topics.history import reports, services
from topics.history.answer import Window
from topics.history.api.serializers import (AccessSerializer, DaysQuerySerializer, DriftRunSerializer,
                                            GrantsPerDaySerializer, MomentQuerySerializer, MomentSerializer,
                                            ReportGrantSerializer, StaleGrantSerializer)
from topics.history.filtersets import DriftFilterSet, ReportGrantFilterSet
from topics.models import Grant, Namespace, ReconcileRun


class HistoryPermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return policy.may_see_history(request.user)


class DriftPermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return policy.may_see_drift(request.user)


class HistoryListView(generics.ListAPIView):
    """A paginated list of the rows a history question answers; the query is checked by `query_serializer`."""

    permission_classes = [HistoryPermission]
    query_serializer = DaysQuerySerializer

    def query(self) -> dict:
        query = self.query_serializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data

    def namespace(self) -> Namespace:
        return get_object_or_404(policy.history_namespaces_visible_to(self.request.user), name=self.kwargs["name"])

    def window(self) -> Window:
        return self.query().get("at") or Window.instant(timezone.now())

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Grant.objects.none()
        return self.rows()

    def rows(self):
        raise NotImplementedError


TAGS = ["history"]


@extend_schema(tags=TAGS, parameters=[MomentQuerySerializer],
               description="Who could read the namespace's logs at the instant or on the date `at` (default now), "
                           "and why: each grant, its source, request, reason and approvers, whether the broker held "
                           "the ACL then, and the holder's portal reads under it.")
class NamespaceAccessView(HistoryListView):
    serializer_class = AccessSerializer
    query_serializer = MomentQuerySerializer
    filter_backends: list = []

    def rows(self):
        return services.who_could_read(self.namespace(), self.window())


@extend_schema(tags=TAGS, parameters=[MomentQuerySerializer],
               description="What the principal could read at the instant or on the date `at` (default now), and "
                           "why; owners see only their namespaces.")
class PrincipalAccessView(HistoryListView):
    serializer_class = AccessSerializer
    query_serializer = MomentQuerySerializer
    filter_backends: list = []

    def rows(self):
        principal = policy.history_principal_visible_to(self.request.user, self.kwargs["name"])
        if principal is None:
            raise Http404("No such principal.")
        return services.what_could_read(principal, self.window(),
                                        policy.history_namespaces_visible_to(self.request.user))


@extend_schema(tags=TAGS, description="The namespace's grants starting and ending, the broker's ACL changes for "
                                      "their holders and their credentials' rotations, in time order.")
class NamespaceTimelineView(HistoryListView):
    serializer_class = MomentSerializer
    filter_backends: list = []

    def rows(self):
        return services.timeline(self.namespace())


@extend_schema(tags=TAGS, parameters=[DaysQuerySerializer],
               description="Grants that let someone read the namespace on each of the last `days` UTC days "
                           "(default 30), newest first.")
class GrantsPerDayView(HistoryListView):
    serializer_class = GrantsPerDaySerializer
    filter_backends: list = []

    def rows(self):
        return list(reversed(reports.grants_over_time(self.namespace(), days=self.query().get("days") or 30)))


class ReportGrantsView(HistoryListView):
    filterset_class = ReportGrantFilterSet

    def visible(self):
        return Grant.objects.filter(topic__namespace__in=policy.history_namespaces_visible_to(self.request.user))


@extend_schema(tags=TAGS, parameters=[DaysQuerySerializer],
               description="Active grants ending within `days` days (default 7), soonest first.")
class ExpiringView(ReportGrantsView):
    serializer_class = ReportGrantSerializer

    def rows(self):
        return reports.expiring(self.visible(), within_days=self.query().get("days") or 7)


@extend_schema(tags=TAGS, parameters=[DaysQuerySerializer],
               description="Active grants held `days` days (default 30) under which their holder read nothing for "
                           "that long: no portal read, no consumer-group move on the broker.")
class StaleView(ReportGrantsView):
    serializer_class = StaleGrantSerializer

    def rows(self):
        return reports.stale(self.visible(), idle_days=self.query().get("days") or 30)


@extend_schema(tags=TAGS, description="Reconcile runs that found drift, newest first, and what each did about it "
                                      "(auditors and admins).")
class DriftView(HistoryListView):
    permission_classes = [DriftPermission]
    serializer_class = DriftRunSerializer
    filterset_class = DriftFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReconcileRun.objects.none()
        return reports.drift()
