"""Serializers of the break-glass API: uses with their reviews; breaking the glass; reviewing a use."""
from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from portal.core.limits import MaxTextLength
from topics.models import BreakGlassUse, Lifecycle, Namespace, Verdict


class BreakGlassUseSerializer(serializers.ModelSerializer):
    responder = serializers.SlugRelatedField(source="user", slug_field="username", read_only=True)
    principal = serializers.SlugRelatedField(slug_field="name", read_only=True)
    namespace = serializers.SlugRelatedField(slug_field="name", read_only=True)
    grants = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    open_finding = serializers.BooleanField(read_only=True, help_text="True until someone else reviews the use.")

    class Meta:
        model = BreakGlassUse
        fields = ["id", "responder", "principal", "namespace", "reason", "started_at", "valid_until", "grants",
                  "open_finding", "reviewed_by", "reviewed_at", "verdict", "review_comment"]
        read_only_fields = fields


class BreakGlassCreateSerializer(serializers.Serializer):
    namespace = serializers.SlugRelatedField(slug_field="name",
                                             queryset=Namespace.objects.filter(lifecycle=Lifecycle.ACTIVE))
    reason = serializers.CharField(validators=[MaxTextLength()],
                                   help_text="The incident, and why it cannot wait for an approval.")
    hours = serializers.IntegerField(min_value=1, help_text="How long (at most LOGWARDEN_BREAK_GLASS_MAX_HOURS).")

    def validate_hours(self, hours: int) -> int:
        if hours > settings.LOGWARDEN_BREAK_GLASS_MAX_HOURS:
            raise serializers.ValidationError(f"At most {settings.LOGWARDEN_BREAK_GLASS_MAX_HOURS} hours.")
        return hours


class BreakGlassReviewSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    comment = serializers.CharField(validators=[MaxTextLength()], help_text="What the review found.")
