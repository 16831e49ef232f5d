"""Filters of teams, group mappings, service accounts and tokens, shared by the API (query parameters) and the
web pages (the filter form). Teams are chosen by slug, as everywhere in the API."""
from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from portal.core.filters import BooleanFilter, FilterSet
from accounts.models import ApiToken, GroupMapping, Role, ServiceAccount, Team


class TeamFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", help_text="Part of the slug or name (any case).")

    class Meta:
        model = Team
        fields = ["q"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(slug__icontains=value) | Q(name__icontains=value))


class GroupMappingFilterSet(FilterSet):
    ldap_group = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the group's cn (any case).")
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), to_field_name="slug",
                                            help_text="The team's slug.")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = GroupMapping
        fields = ["ldap_group", "team", "role"]


class ServiceAccountFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search",
                                  help_text="Part of the name or description (any case).")
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), to_field_name="slug",
                                            help_text="The team's slug.")

    class Meta:
        model = ServiceAccount
        fields = ["q", "team", "is_active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class ApiTokenFilterSet(FilterSet):
    revoked = BooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True,
                                           help_text="true: revoked tokens only; false: tokens not revoked.")

    class Meta:
        model = ApiToken
        fields = ["revoked"]
