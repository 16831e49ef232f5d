"""The history API's queries (the same checks as the pages' forms) and the shapes it answers with."""
from __future__ import annotations

from django import forms
from rest_framework import serializers

from topics.history import reports
from topics.history.forms import MAX_REPORT_DAYS, parse_moment
from topics.models import Grant, GrantSource, GrantState, ReconcileRun, RunStatus


class MomentQuerySerializer(serializers.Serializer):
    at = serializers.CharField(required=False, max_length=40,
                               help_text="A date (YYYY-MM-DD: that whole UTC day) or an ISO 8601 date-time (that "
                                         "instant; UTC without an offset). Default: now.")

    def validate_at(self, value: str):
        try:
            return parse_moment(value)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class DaysQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=MAX_REPORT_DAYS,
                                    help_text="N of the report: within, idle for, or over the last N days.")


class AccessSerializer(serializers.Serializer):
    """One grant that let the principal read the namespace's topic during the window, and why."""

    principal = serializers.CharField()
    namespace = serializers.CharField()
    topic = serializers.CharField()
    cluster = serializers.CharField()
    grant = serializers.IntegerField()
    source = serializers.ChoiceField(choices=GrantSource.choices)
    state = serializers.ChoiceField(choices=GrantState.choices, help_text="The grant's state now.")
    valid_from = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="valid_until, or its revocation or release when earlier.")
    granted_by = serializers.CharField(help_text="Who approved last or granted (system: nobody).")
    reason = serializers.CharField()
    request = serializers.IntegerField(allow_null=True)
    requester = serializers.CharField(help_text="Empty for grants without a request.")
    approvers = serializers.ListField(child=serializers.CharField())
    broker_held = serializers.BooleanField(help_text="Whether the broker held a READ ACL for one of the "
                                                     "principal's users on the topic at some moment of the window, "
                                                     "from the reconciler's recorded changes.")
    broker_users = serializers.ListField(child=serializers.CharField())
    portal_reads = serializers.IntegerField(help_text="Reads through the portal under the grant, up to the "
                                                      "window's end.")
    last_portal_read = serializers.DateTimeField(allow_null=True)


class MomentSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    what = serializers.ChoiceField(choices=["grant.start", "grant.end", "acl.create", "acl.delete",
                                            "credential.rotate"])
    principal = serializers.CharField()
    topic = serializers.CharField()
    detail = serializers.CharField()


class GrantsPerDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    grants = serializers.IntegerField()
    principals = serializers.IntegerField()

    def to_representation(self, instance):
        day, grants, principals = instance
        return super().to_representation({"day": day, "grants": grants, "principals": principals})


class ReportGrantSerializer(serializers.ModelSerializer):
    principal = serializers.CharField(source="principal.name")
    namespace = serializers.CharField(source="topic.namespace.name")
    topic = serializers.CharField(source="topic.name")
    cluster = serializers.CharField(source="topic.cluster.name")
    granted_by = serializers.CharField(source="granted_by.username", default="system")

    class Meta:
        model = Grant
        fields = ["id", "principal", "namespace", "topic", "cluster", "source", "valid_from", "valid_until",
                  "granted_by", "reason"]


class StaleGrantSerializer(ReportGrantSerializer):
    last_portal_read = serializers.DateTimeField(allow_null=True)
    last_group_read = serializers.DateTimeField(allow_null=True)

    class Meta(ReportGrantSerializer.Meta):
        fields = [*ReportGrantSerializer.Meta.fields, "last_portal_read", "last_group_read"]


class DriftRunSerializer(serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.name")
    status = serializers.ChoiceField(choices=RunStatus.choices)
    what_was_done = serializers.SerializerMethodField()

    class Meta:
        model = ReconcileRun
        fields = ["id", "cluster", "trigger", "started_at", "finished_at", "status", "counts", "drift",
                  "what_was_done"]

    def get_what_was_done(self, run: ReconcileRun) -> str:
        return reports.drift_action(run)
