"""Filters of break-glass uses, shared by the API and the pages."""
from __future__ import annotations

import django_filters

from portal.core.filters import BooleanFilter, DateTimeRangeFilter, FilterSet
from topics.models import BreakGlassUse, Namespace, Verdict


class BreakGlassUseFilterSet(FilterSet):
    namespace = django_filters.ModelChoiceFilter(queryset=Namespace.objects.all(), to_field_name="name",
                                                 help_text="The namespace's name.")
    responder = django_filters.CharFilter(field_name="user__username", help_text="Who broke the glass: a username.")
    open_finding = BooleanFilter(field_name="reviewed_at", lookup_expr="isnull",
                                 help_text="true: not reviewed yet; false: reviewed.")
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices)
    started_at = DateTimeRangeFilter(
        help_text="started_at_after / started_at_before: ISO 8601 date-times, both included.")

    class Meta:
        model = BreakGlassUse
        fields = ["namespace", "responder", "open_finding", "verdict", "started_at"]
