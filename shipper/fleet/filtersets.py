"""Filters of the fleet API: related rows by name (`kafka_cluster=default`, `fleet=eu-west`)."""
from __future__ import annotations

import django_filters

from portal.core.filters import FilterSet
from shipper.fleet.models import CanaryNode, Fleet, FleetRevision, Flavour
from topics.models import KafkaCluster


class FleetFilterSet(FilterSet):
    flavour = django_filters.ChoiceFilter(choices=Flavour.choices)
    kafka_cluster = django_filters.ModelChoiceFilter(queryset=KafkaCluster.objects.all(), to_field_name="name",
                                                     help_text="The Kafka cluster's name.")

    class Meta:
        model = Fleet
        fields = ["flavour", "kafka_cluster"]


class FleetRevisionFilterSet(FilterSet):
    fleet = django_filters.ModelChoiceFilter(queryset=Fleet.objects.all(), to_field_name="name",
                                             help_text="The fleet's name.")
    applied = django_filters.BooleanFilter(field_name="applied_at", lookup_expr="isnull", exclude=True,
                                           help_text="true: applied to the cluster at least once.")

    class Meta:
        model = FleetRevision
        fields = ["fleet", "applied"]


class CanaryNodeFilterSet(FilterSet):
    fleet = django_filters.ModelChoiceFilter(queryset=Fleet.objects.all(), to_field_name="name",
                                             help_text="The fleet's name.")
    lossy = django_filters.BooleanFilter(method="filter_lossy", help_text="true: nodes with lines never read.")

    class Meta:
        model = CanaryNode
        fields = ["fleet", "node", "lossy"]

    def filter_lossy(self, queryset, name, value):
        return queryset.filter(missing__gt=0) if value else queryset.filter(missing=0)
