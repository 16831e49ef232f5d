"""Filters of access requests and grants, shared by the API (query parameters) and the web pages (the filter
form), and of the request items waiting for a decision (the API's approval queue).

Related rows are chosen by their names, as everywhere in the API: `namespace=payments`, `cluster=default`,
`principal=u.alice` (or `sa.payments-etl`), `requester=alice`. The FilterSets filter whatever queryset they
are given; topics.policy decides what that queryset may hold.
"""
from __future__ import annotations

import django_filters
from django import forms

from portal.core.filters import DateTimeRangeFilter, FilterSet
from topics.models import (AccessRequest, Grant, GrantSource, GrantState, KafkaCluster, KafkaPrincipal, Namespace,
                           RequestItem, RequestState)
from topics.provisioning.filtersets import principal_filter


class AccessRequestFilterSet(FilterSet):
    state = django_filters.ChoiceFilter(choices=RequestState.choices)
    namespace = django_filters.ModelChoiceFilter(field_name="items__namespace", queryset=Namespace.objects.all(),
                                                 to_field_name="name", distinct=True, label="Namespace",
                                                 help_text="A namespace asked for, by name.")
    principal = django_filters.ModelChoiceFilter(queryset=KafkaPrincipal.objects.all(), to_field_name="name",
                                                 widget=forms.TextInput,
                                                 help_text="Who the access is for, e.g. u.alice or sa.payments-etl.")
    requester = django_filters.CharFilter(field_name="requester__username", help_text="Who asked: a username.")
    created_at = DateTimeRangeFilter(
        help_text="created_at_after / created_at_before: ISO 8601 date-times, both included.")

    class Meta:
        model = AccessRequest
        fields = ["state", "namespace", "principal", "requester", "created_at"]


class GrantFilterSet(FilterSet):
    namespace = django_filters.ModelChoiceFilter(field_name="topic__namespace", queryset=Namespace.objects.all(),
                                                 to_field_name="name", label="Namespace",
                                                 help_text="The namespace's name.")
    principal = django_filters.ModelChoiceFilter(queryset=KafkaPrincipal.objects.all(), to_field_name="name",
                                                 widget=forms.TextInput,
                                                 help_text="The holder, e.g. u.alice or sa.payments-etl.")
    state = django_filters.ChoiceFilter(choices=GrantState.choices)
    source = django_filters.ChoiceFilter(choices=GrantSource.choices)
    cluster = django_filters.ModelChoiceFilter(field_name="topic__cluster", queryset=KafkaCluster.objects.all(),
                                               to_field_name="name", label="Cluster", help_text="The cluster's name.")
    valid_until = DateTimeRangeFilter(
        help_text="valid_until_after / valid_until_before: ISO 8601 date-times, both included.")

    class Meta:
        model = Grant
        fields = ["namespace", "principal", "state", "source", "cluster", "valid_until"]


class RequestItemFilterSet(FilterSet):
    namespace = django_filters.ModelChoiceFilter(queryset=Namespace.objects.all(), to_field_name="name",
                                                 help_text="The namespace's name.")
    principal = principal_filter("request__principal")
    requester = django_filters.CharFilter(field_name="request__requester__username",
                                          help_text="Who asked: a username.")

    class Meta:
        model = RequestItem
        fields = ["namespace", "principal", "requester"]
