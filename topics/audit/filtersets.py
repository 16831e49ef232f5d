"""Filters of the audit trail, shared by the API (query parameters) and the web pages (the filter form)."""
from __future__ import annotations

import django_filters

from portal.core.filters import DateTimeRangeFilter, FilterSet
from portal.models import AuditEvent


class AuditEventFilterSet(FilterSet):
    action = django_filters.CharFilter(help_text="An action, e.g. namespace.register.")
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith",
                                              help_text="The start of an action, e.g. 'namespace.' for every "
                                                        "namespace event.")
    actor_label = django_filters.CharFilter(help_text="Who acted: a username, sa:<service account> or system.")
    occurred_at = DateTimeRangeFilter(
        help_text="occurred_at_after / occurred_at_before: ISO 8601 date-times, both included.")

    class Meta:
        model = AuditEvent
        fields = ["action", "action_prefix", "actor_label", "target_type", "target_id", "occurred_at"]
