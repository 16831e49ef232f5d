"""Filters of the access API that the web pages do not have (yet): request items waiting for a decision, Kafka
credentials and reconcile runs. Requests and grants use topics.filtersets_access, shared with the web pages.
Related rows are chosen by name, as everywhere in the API."""
from __future__ import annotations

import django_filters
from django import forms

from topics.models import (CredentialState, KafkaCluster, KafkaCredential, KafkaPrincipal, Namespace, ReconcileRun,
                           RequestItem)


def _principal(field_name: str = "principal") -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(field_name=field_name, queryset=KafkaPrincipal.objects.all(),
                                            to_field_name="name", widget=forms.TextInput,
                                            help_text="The principal's name, e.g. u.alice or sa.payments-etl.")


def _cluster() -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(queryset=KafkaCluster.objects.all(), to_field_name="name",
                                            help_text="The cluster's name.")


class RequestItemFilterSet(django_filters.FilterSet):
    namespace = django_filters.ModelChoiceFilter(queryset=Namespace.objects.all(), to_field_name="name",
                                                 help_text="The namespace's name.")
    principal = _principal("request__principal")
    requester = django_filters.CharFilter(field_name="request__requester__username",
                                          help_text="Who asked: a username.")

    class Meta:
        model = RequestItem
        fields = ["namespace", "principal", "requester"]


class KafkaCredentialFilterSet(django_filters.FilterSet):
    principal = _principal()
    cluster = _cluster()
    state = django_filters.ChoiceFilter(choices=CredentialState.choices)

    class Meta:
        model = KafkaCredential
        fields = ["principal", "cluster", "state"]


class ReconcileRunFilterSet(django_filters.FilterSet):
    cluster = _cluster()
    started_at = django_filters.IsoDateTimeFromToRangeFilter(
        help_text="started_at_after / started_at_before: ISO 8601 date-times, both included.")

    class Meta:
        model = ReconcileRun
        fields = ["cluster", "succeeded", "trigger", "started_at"]
