"""Filters of the reports' rows, shared by the API (query parameters) and the pages (the filter form)."""
from __future__ import annotations

import django_filters
from django import forms

from portal.core.filters import DateTimeRangeFilter, FilterSet
from topics.models import Grant, GrantSource, KafkaCluster, Namespace, ReconcileRun, RunStatus
from topics.provisioning.filtersets import principal_filter


class ReportGrantFilterSet(FilterSet):
    # typed, not chosen from a list: a report's page must not list every namespace of a large installation
    namespace = django_filters.ModelChoiceFilter(field_name="topic__namespace", queryset=Namespace.objects.all(),
                                                 to_field_name="name", label="Namespace", widget=forms.TextInput,
                                                 help_text="The namespace's name.")
    principal = principal_filter("principal")
    source = django_filters.ChoiceFilter(choices=GrantSource.choices)
    cluster = django_filters.ModelChoiceFilter(field_name="topic__cluster", queryset=KafkaCluster.objects.all(),
                                               to_field_name="name", label="Cluster", help_text="The cluster's name.")

    class Meta:
        model = Grant
        fields = ["namespace", "principal", "source", "cluster"]


class DriftFilterSet(FilterSet):
    cluster = django_filters.ModelChoiceFilter(queryset=KafkaCluster.objects.all(), to_field_name="name",
                                               help_text="The cluster's name.")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    started_at = DateTimeRangeFilter(
        help_text="started_at_after / started_at_before: ISO 8601 date-times, both included.")

    class Meta:
        model = ReconcileRun
        fields = ["cluster", "status", "started_at"]
