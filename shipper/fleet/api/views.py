"""The fleet API: fleets (settings, apply and its dry run, rollback, health) and their revisions.

Every rule is shipper.policy's: auditors and admins read, admins change; anyone else sees no fleet (403 on the
list, 404 on one). Changes go through shipper.fleet.services, which validates, revises, applies and audits.
"""
from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.support import PerActionSerializerMixin, PolicyPermission, ScopedMixin, service_errors
from shipper import policy
from shipper.fleet import services
from shipper.fleet.api.serializers import (ApplyResultSerializer, ApplySerializer, CanaryNodeSerializer,
                                           FleetCreateSerializer,
                                           FleetHealthSerializer, FleetRevisionDetailSerializer,
                                           FleetRevisionSerializer, FleetSerializer, RollbackSerializer,
                                           RotateCredentialSerializer, RotatedCredentialSerializer)
from shipper.fleet.filtersets import CanaryNodeFilterSet, FleetFilterSet, FleetRevisionFilterSet
from shipper.fleet.models import CanaryNode, Fleet, FleetRevision
from shipper.kube.client import KubeError


class FleetPermission(PolicyPermission):
    read_rule = staticmethod(policy.can_view_fleets)
    write_rule = staticmethod(policy.can_manage_fleets)


class ClusterUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The Kubernetes cluster did not answer."
    default_code = "kube_unavailable"


def _cluster_errors(call):
    """The cluster's refusal as a 503 naming it; no cluster configured as a 400."""
    try:
        with service_errors():
            return call()
    except KubeError as exc:
        raise ClusterUnavailable(str(exc)) from None


class FleetViewSet(ScopedMixin, PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Shipper fleets. A settings change (PATCH, with a reason) makes a revision when what the fleet renders
    changes; nothing reaches the cluster until a revision is applied."""

    queryset = Fleet.objects.select_related("kafka_cluster", "live_revision")
    lookup_field = "name"
    permission_classes = [FleetPermission]
    filterset_class = FleetFilterSet
    serializer_class = FleetSerializer
    serializer_classes = {"create": FleetCreateSerializer, "apply": ApplySerializer, "rollback": RollbackSerializer,
                          "rotate_credential": RotateCredentialSerializer}

    def scoped(self, user) -> QuerySet:
        return policy.fleets_visible_to(user, self.queryset)

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        reason = data.pop("reason", "") or "created"
        with service_errors():
            serializer.instance = services.create_fleet(self.request.user, reason=reason, **data)

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        if "reason" not in data:
            raise exceptions.ValidationError({"reason": ["Say why the fleet changes: the revision records it."]})
        with service_errors():
            services.update_fleet(self.request.user, serializer.instance, reason=data.pop("reason"), **data)

    def _input(self, request) -> tuple[Fleet, dict, FleetRevision | None]:
        """The fleet, the action's validated body, and the revision it names (None: none named)."""
        fleet = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        number = serializer.validated_data.get("revision")
        if number is None:
            return fleet, serializer.validated_data, None
        revision = fleet.revisions.filter(number=number).first()
        if revision is None:
            raise exceptions.ValidationError({"revision": [f"Fleet {fleet.name} has no revision {number}."]})
        return fleet, serializer.validated_data, revision

    @extend_schema(responses={200: ApplyResultSerializer,
                              503: OpenApiResponse(description="The Kubernetes cluster did not answer.")})
    @action(detail=True, methods=["post"])
    def apply(self, request, *args, **kwargs) -> Response:
        """Applies a revision (default: the latest) by server-side apply; with dry_run, what would change."""
        fleet, data, revision = self._input(request)
        result = _cluster_errors(lambda: services.apply(request.user, fleet, revision=revision,
                                                        dry_run=data["dry_run"]))
        return Response(result.as_dict())

    @extend_schema(responses={200: ApplyResultSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request, *args, **kwargs) -> Response:
        """Re-applies an old revision's content as a new revision."""
        fleet, data, revision = self._input(request)
        result = _cluster_errors(lambda: services.rollback(request.user, fleet, revision, reason=data["reason"]))
        return Response(result.as_dict())

    @extend_schema(responses={202: RotatedCredentialSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-credential")
    def rotate_credential(self, request, *args, **kwargs) -> Response:
        """Starts a rotation of the shipper's Kafka credential: the new slot is made at the next reconcile, the
        next periodic pass applies a revision on its Secret (the pods roll), the current slot works for
        overlap_hours."""
        fleet, data, _ = self._input(request)
        with service_errors():
            new = services.rotate_credential(request.user, fleet, overlap_hours=data["overlap_hours"])
        return Response({"username": new.username, "state": new.state, "overlap_hours": data["overlap_hours"]},
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: FleetHealthSerializer})
    @action(detail=True, methods=["get"])
    def health(self, request, *args, **kwargs) -> Response:
        """Desired, current, ready, updated and unavailable pods, each pod's revision, and the fleet's state."""
        fleet = self.get_object()
        return Response(_cluster_errors(lambda: services.health(fleet)).as_dict())


class FleetRevisionViewSet(PerActionSerializerMixin, ScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Revisions of the fleets, newest first: the rendered config, manifests, routing and the diff against the
    revision before (in a revision's detail)."""

    queryset = FleetRevision.objects.select_related("fleet", "rollback_of")
    permission_classes = [FleetPermission]
    filterset_class = FleetRevisionFilterSet
    serializer_class = FleetRevisionSerializer
    serializer_classes = {"retrieve": FleetRevisionDetailSerializer}

    def scoped(self, user) -> QuerySet:
        return policy.revisions_visible_to(user).select_related("fleet", "rollback_of").order_by("fleet", "-number")


class CanaryNodeViewSet(ScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Each fleet's per-node canary as last read (the periodic pass reads the canary topics): the last line, its
    delay from the node to the broker, and the lines never read."""

    queryset = CanaryNode.objects.select_related("fleet")
    permission_classes = [FleetPermission]
    filterset_class = CanaryNodeFilterSet
    serializer_class = CanaryNodeSerializer

    def scoped(self, user) -> QuerySet:
        return policy.canary_nodes_visible_to(user).select_related("fleet").order_by("fleet__name", "node")
