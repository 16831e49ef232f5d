from __future__ import annotations

from rest_framework import serializers

from topics.models import Namespace


class ArchivedNamespaceSerializer(serializers.ModelSerializer):
    archive_days = serializers.IntegerField(source="retention_class.archive_days", allow_null=True, read_only=True,
                                            help_text="Days a day of logs is kept; null: for ever")

    class Meta:
        model = Namespace
        fields = ["name", "archive_days"]
        read_only_fields = fields


class ArchivedDaySerializer(serializers.Serializer):
    day = serializers.DateField(read_only=True)
    files = serializers.IntegerField(read_only=True)
    bytes = serializers.IntegerField(read_only=True)


class ArchivedFileSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True, help_text="Download it at …/days/{day}/files/{name}/")
    topic = serializers.CharField(source="file.topic", read_only=True)
    partition = serializers.IntegerField(source="file.partition", read_only=True)
    first_offset = serializers.IntegerField(source="file.first_offset", read_only=True)
    last_offset = serializers.IntegerField(source="file.last_offset", read_only=True)
    size = serializers.IntegerField(read_only=True)
