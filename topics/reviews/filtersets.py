"""Filters of review campaigns and their items, shared by the API (query parameters) and the pages (the filter
form). Related rows are chosen by name, as everywhere in the API."""
from __future__ import annotations

import django_filters
from django import forms

from portal.core.filters import BooleanFilter, FilterSet
from topics.models import CampaignState, KafkaPrincipal, Namespace, ReviewCampaign, ReviewDecision, ReviewItem


class ReviewCampaignFilterSet(FilterSet):
    state = django_filters.ChoiceFilter(choices=CampaignState.choices)

    class Meta:
        model = ReviewCampaign
        fields = ["state"]


class ReviewItemFilterSet(FilterSet):
    campaign = django_filters.NumberFilter(field_name="campaign_id", help_text="The campaign's id.")
    namespace = django_filters.ModelChoiceFilter(field_name="grant__topic__namespace",
                                                 queryset=Namespace.objects.all(), to_field_name="name",
                                                 label="Namespace", help_text="The namespace's name.")
    principal = django_filters.ModelChoiceFilter(field_name="grant__principal", queryset=KafkaPrincipal.objects.all(),
                                                 to_field_name="name", widget=forms.TextInput,
                                                 help_text="The holder, e.g. u.alice or sa.payments-etl.")
    decision = django_filters.ChoiceFilter(choices=ReviewDecision.choices)
    pending = BooleanFilter(method="filter_pending", help_text="true: not decided yet; false: decided.")

    class Meta:
        model = ReviewItem
        fields = ["campaign", "namespace", "principal", "decision", "pending"]

    def filter_pending(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(decision="") if value else queryset.exclude(decision="")
