"""Filters of the catalogue, shared by the API (query parameters) and the web pages (the filter form).

Related rows are chosen by their names, as everywhere in the API: `owner_team=payments` (a team slug),
`retention_class=standard`, `cluster=default`, `namespace=payments`. `q` searches the free-text fields.
"""
from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from portal.core.filters import BooleanFilter, FilterSet
from accounts.models import Team
from topics.models import KafkaCluster, Lifecycle, Namespace, RetentionClass, Sensitivity, Topic, TopicState


class NamespaceFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search",
                                  help_text="Words in the name, description or owner team (any case).")
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the name (any case).")
    owner_team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), to_field_name="slug",
                                                  help_text="The owning team's slug.")
    sensitivity = django_filters.ChoiceFilter(choices=Sensitivity.choices)
    lifecycle = django_filters.ChoiceFilter(choices=Lifecycle.choices)
    retention_class = django_filters.ModelChoiceFilter(queryset=RetentionClass.objects.all(), to_field_name="name",
                                                       help_text="The retention class's name.")
    discovered = BooleanFilter(help_text="true: found in Kubernetes; false: registered by hand.")

    class Meta:
        model = Namespace
        fields = ["q", "name", "owner_team", "sensitivity", "lifecycle", "retention_class", "discovered"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word)
                                       | Q(owner_team__slug__icontains=word) | Q(owner_team__name__icontains=word))
        return queryset


class TopicFilterSet(FilterSet):
    cluster = django_filters.ModelChoiceFilter(queryset=KafkaCluster.objects.all(), to_field_name="name",
                                               help_text="The cluster's name.")
    state = django_filters.ChoiceFilter(choices=TopicState.choices)
    namespace = django_filters.ModelChoiceFilter(queryset=Namespace.objects.all(), to_field_name="name",
                                                 help_text="The namespace's name.")

    class Meta:
        model = Topic
        fields = ["cluster", "state", "namespace"]


class RetentionClassFilterSet(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the name (any case).")

    class Meta:
        model = RetentionClass
        fields = ["name", "cleanup_policy"]


class KafkaClusterFilterSet(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the name (any case).")

    class Meta:
        model = KafkaCluster
        fields = ["name", "is_default", "security_protocol"]
