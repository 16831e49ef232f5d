"""The query API's bodies: a query (SQL, namespaces, days, page) and its answers."""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from topics.query import formats


class QuerySerializer(serializers.Serializer):
    sql = serializers.CharField(max_length=settings.LOGWARDEN_QUERY_MAX_SQL_LENGTH, trim_whitespace=False,
                                help_text="One read-only statement (SELECT, WITH, FROM …, DESCRIBE) over the view "
                                          "logs.")
    namespaces = serializers.ListField(
        child=serializers.CharField(max_length=63), required=False, max_length=settings.LOGWARDEN_MAX_LIST_LENGTH,
        help_text="Namespaces to read, each one you hold a live grant on (else 403; no such namespace: 404); "
                  "none: every one you may read.")
    date_from = serializers.DateField(required=False, help_text="First day read (UTC); none: the oldest.")
    date_to = serializers.DateField(required=False, help_text="Last day read, inclusive; none: the newest.")

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
        return data


class QueryRunSerializer(QuerySerializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=settings.LOGWARDEN_API_MAX_PAGE_SIZE, default=50)


class QueryDownloadSerializer(QuerySerializer):
    format = serializers.ChoiceField(choices=sorted(formats.FILES))


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text="The DuckDB type.")


class QueryPageSerializer(serializers.Serializer):
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()),
                                 help_text="Each row's values in the order of columns, as JSON (times in ISO 8601).")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_next = serializers.BooleanField()
    duration_ms = serializers.IntegerField()
    files = serializers.IntegerField(help_text="Archived files the query read from.")
    namespaces = serializers.ListField(child=serializers.CharField())


@extend_schema_serializer(many=False)  # GET /api/query/ answers one object, not a list
class LogsViewSerializer(serializers.Serializer):
    view = serializers.CharField()
    columns = ColumnSerializer(many=True)
    namespaces = serializers.ListField(child=serializers.CharField(), help_text="The namespaces you may read.")
