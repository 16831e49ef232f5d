"""Filters of Kafka credentials and reconcile runs (the API's query parameters), and the principal filter that
access's filters share. Related rows are chosen by name, as everywhere in the API: `principal=u.alice` (or
`sa.payments-etl`), `cluster=default`. The FilterSets filter whatever queryset they are given; topics.policy
decides what that queryset may hold."""
from __future__ import annotations

import django_filters
from django import forms

from portal.core.filters import DateTimeRangeFilter, FilterSet
from topics.models import CredentialState, KafkaCluster, KafkaCredential, KafkaPrincipal, ReconcileRun


def principal_filter(field_name: str = "principal") -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(field_name=field_name, queryset=KafkaPrincipal.objects.all(),
                                            to_field_name="name", widget=forms.TextInput,
                                            help_text="The principal's name, e.g. u.alice or sa.payments-etl.")


def _cluster() -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(queryset=KafkaCluster.objects.all(), to_field_name="name",
                                            help_text="The cluster's name.")


class KafkaCredentialFilterSet(FilterSet):
    principal = principal_filter()
    cluster = _cluster()
    state = django_filters.ChoiceFilter(choices=CredentialState.choices)

    class Meta:
        model = KafkaCredential
        fields = ["principal", "cluster", "state"]


class ReconcileRunFilterSet(FilterSet):
    cluster = _cluster()
    started_at = DateTimeRangeFilter(
        help_text="started_at_after / started_at_before: ISO 8601 date-times, both included.")

    class Meta:
        model = ReconcileRun
        fields = ["cluster", "succeeded", "status", "trigger", "started_at"]
