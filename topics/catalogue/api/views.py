"""The catalogue API: Kafka clusters, retention classes, namespaces and their log topics.

Permissions: the classes of topics.api.permissions (accounts.policy). Changes go through
topics.catalogue.services, or portal.core.audited for clusters, which validate, save and audit.
"""
from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import DNS_LABEL
from portal.api.support import AuditedWritesMixin, PerActionSerializerMixin, in_url, service_errors
from portal.core import audited
from topics.catalogue import services as catalogue
from topics.catalogue.api.permissions import CataloguePermission, ClusterPermission
from topics.catalogue.api.serializers import (KafkaClusterCreateSerializer, KafkaClusterSerializer,
                                              NamespaceRegisterSerializer, NamespaceSerializer,
                                              RetentionClassCreateSerializer, RetentionClassSerializer,
                                              RetireSerializer, TopicSerializer)
from topics.catalogue.filtersets import (KafkaClusterFilterSet, NamespaceFilterSet, RetentionClassFilterSet,
                                         TopicFilterSet)
from topics.models import KafkaCluster, Namespace, RetentionClass, Topic

# every catalogued name is a DNS-1123 label
NAME_IN_URL = in_url(DNS_LABEL)


class KafkaClusterViewSet(PerActionSerializerMixin, AuditedWritesMixin, viewsets.ModelViewSet):
    """Clusters the portal administers: auditors and admins read them, admins change them. A cluster that
    still has topics cannot be deleted (409)."""

    queryset = KafkaCluster.objects.all()
    lookup_field = "name"
    lookup_value_regex = NAME_IN_URL
    permission_classes = [ClusterPermission]
    filterset_class = KafkaClusterFilterSet
    serializer_class = KafkaClusterSerializer
    serializer_classes = {"create": KafkaClusterCreateSerializer}


class RetentionClassViewSet(PerActionSerializerMixin, viewsets.ModelViewSet):
    """Retention classes: anyone signed in reads them, admins change them; a change re-syncs the topics of the
    namespaces in the class. A class still used by namespaces cannot be deleted (409)."""

    queryset = RetentionClass.objects.all()
    lookup_field = "name"
    lookup_value_regex = NAME_IN_URL
    permission_classes = [CataloguePermission]
    filterset_class = RetentionClassFilterSet
    serializer_class = RetentionClassSerializer
    serializer_classes = {"create": RetentionClassCreateSerializer}

    def perform_create(self, serializer) -> None:
        changes = dict(serializer.validated_data)
        with service_errors():
            serializer.instance = catalogue.save_retention_class(
                self.request.user, RetentionClass(name=changes.pop("name")), **changes)

    def perform_update(self, serializer) -> None:
        with service_errors():
            catalogue.save_retention_class(self.request.user, serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: RetentionClass) -> None:
        with service_errors():
            audited.delete(self.request.user, instance)


class NamespaceViewSet(PerActionSerializerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Namespaces and their log topics: anyone signed in reads them; admins register namespaces by hand, change
    their owner, sensitivity, retention class and description, and retire them (they are never deleted)."""

    queryset = Namespace.objects.select_related("owner_team", "suggested_owner_team", "retention_class")\
        .prefetch_related(Prefetch("topics", queryset=Topic.objects.select_related("cluster")))
    lookup_field = "name"
    lookup_value_regex = NAME_IN_URL
    permission_classes = [CataloguePermission]
    filterset_class = NamespaceFilterSet
    serializer_class = NamespaceSerializer
    serializer_classes = {"create": NamespaceRegisterSerializer, "retire": RetireSerializer}

    def perform_create(self, serializer) -> None:
        with service_errors():
            serializer.instance = catalogue.register_namespace(self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        with service_errors():
            catalogue.update_namespace(self.request.user, serializer.instance, **serializer.validated_data)

    @extend_schema(request=None, responses=NamespaceSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-owner")
    def confirm_owner(self, request, *args, **kwargs) -> Response:
        """Makes the owner team its Kubernetes label suggested the owner: from now on its owners decide requests."""
        with service_errors():
            namespace = catalogue.confirm_owner(request.user, self.get_object())
        return Response(NamespaceSerializer(namespace, context=self.get_serializer_context()).data)

    @extend_schema(responses=NamespaceSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, *args, **kwargs) -> Response:
        """Retires the namespace: its topic is no longer synced; the row and its history stay."""
        namespace = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        catalogue.retire_namespace(request.user, namespace, reason=serializer.validated_data["reason"])
        return Response(NamespaceSerializer(namespace, context=self.get_serializer_context()).data)


class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    """The log topics, one per namespace and cluster; the topic sync keeps them on the brokers."""

    queryset = Topic.objects.select_related("namespace", "cluster")
    permission_classes = [CataloguePermission]
    filterset_class = TopicFilterSet
    serializer_class = TopicSerializer
