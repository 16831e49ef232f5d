"""The logs API's query (the same fields and checks as the page's form) and the shapes it answers with."""
from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from topics.logs.archived import LIVE, SOURCES
from topics.logs.forms import clean_cursor, clean_labels, clean_pattern, clean_range
from topics.logs.records import MAX_FILTER_LENGTH, STREAMS


def _text(help_text: str) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=MAX_FILTER_LENGTH, help_text=help_text)


class LogQuerySerializer(serializers.Serializer):
    pod = _text("Records of pods whose name contains this.")
    container = _text("Records of this container.")
    stream = serializers.ChoiceField(choices=STREAMS, required=False, allow_blank=True)
    labels = _text("Pod labels the records must carry: key=value pairs, comma separated.")
    text = _text("Text the log line contains (any case).")
    regex = _text("A regular expression the log line matches (searched within the request's time budget).")
    since = serializers.DateTimeField(required=False, help_text="Records at or after this time (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Records before this time (ISO 8601).")

    def validate_labels(self, value: str) -> dict[str, str]:
        return clean_labels(value)

    def validate_regex(self, value: str) -> str:
        return clean_pattern(value)

    def validate(self, attrs: dict) -> dict:
        clean_range(attrs.get("since"), attrs.get("until"))
        return attrs


def _source(help_text: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=SOURCES, default=LIVE, help_text=help_text)


class LogPageQuerySerializer(LogQuerySerializer):
    source = _source("`live` reads the topic, `archive` its archived days (the same filters and cursors).")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=settings.LOGWARDEN_LOGS_MAX_PAGE_SIZE)
    cursor = serializers.CharField(required=False, allow_blank=True, max_length=20_000,
                                   help_text="`older` or `newer` of a page: continues from there.")

    def validate_cursor(self, value: str):
        return clean_cursor(value)


class LogDownloadQuerySerializer(LogQuerySerializer):
    source = _source("`live` downloads from the topic, `archive` from its archived days.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=settings.LOGWARDEN_LOGS_MAX_DOWNLOAD,
                                     help_text="Most records to download (at most LOGWARDEN_LOGS_MAX_DOWNLOAD).")


class LogFollowQuerySerializer(LogQuerySerializer):
    source = _source("Only `live`: a follow waits for new records on the topic, which the archive never has.")

    def validate_source(self, value: str) -> str:
        if value != LIVE:
            raise serializers.ValidationError("A follow reads the topic live: the archive holds no new records. "
                                              "Page or download the archive instead (source=archive).")
        return value


class DockerSerializer(serializers.Serializer):
    container_id = serializers.CharField()


class KubernetesSerializer(serializers.Serializer):
    namespace_name = serializers.CharField()
    pod_name = serializers.CharField()
    pod_id = serializers.CharField(help_text="The pod's UID.")
    container_name = serializers.CharField()
    host = serializers.CharField(help_text="The node the pod ran on.")
    labels = serializers.DictField(child=serializers.CharField(), help_text="The pod's labels.")


class LogRecordSerializer(serializers.Serializer):
    """A record in the shipper's shape, where it is on the topic, and (for a malformed one) its raw value."""

    partition = serializers.IntegerField()
    offset = serializers.IntegerField()
    timestamp = serializers.DateTimeField(help_text="The broker's record time.")
    malformed = serializers.BooleanField(help_text="Not a shipper record: only `raw` holds its value.")
    raw = serializers.CharField()
    log = serializers.CharField()
    stream = serializers.CharField()
    time = serializers.CharField(help_text="The shipper's own time field, as written.")
    docker = DockerSerializer()
    kubernetes = KubernetesSerializer()


class LogPageSerializer(serializers.Serializer):
    records = LogRecordSerializer(many=True, help_text="Newest first.")
    older = serializers.CharField(allow_null=True, help_text="Cursor of the next, older page (null: none).")
    newer = serializers.CharField(help_text="Cursor of the newer page before this one.")
    budget_spent = serializers.BooleanField(help_text="The search stopped at its time budget: `older` continues.")
    scanned = serializers.IntegerField(help_text="Records read from the broker (or the archive) for this page.")
    readable_since = serializers.DateTimeField(allow_null=True,
                                               help_text="How far back your grant reads (null: the topic's start).")
