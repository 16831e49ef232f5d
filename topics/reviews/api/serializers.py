"""Serializers of the access-review API: campaigns with their progress, review items and decisions. They shape
and pre-check input; topics.reviews.services validates, saves and audits. Related rows are named: namespaces,
teams (slugs), principals, people (usernames)."""
from __future__ import annotations

from rest_framework import serializers

from accounts.models import Team
from portal.api.support import NamesField
from portal.core.limits import MaxTextLength
from topics.models import Namespace, NoResponseAction, ReviewCampaign, ReviewItem, Sensitivity
from topics.reviews.models import REVIEWER_DECISION_CHOICES
from topics.reviews.services import NAME_LENGTH

PROGRESS = ("total", "pending", "certified", "shortened", "revoked", "missed", "ended")


class ReviewCampaignSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    namespaces = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    teams = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    sensitivities = serializers.ListField(child=serializers.ChoiceField(choices=Sensitivity.choices),
                                          read_only=True)
    total = serializers.IntegerField(read_only=True, help_text="Grants in the campaign.")
    pending = serializers.IntegerField(read_only=True, help_text="Not decided yet.")
    certified = serializers.IntegerField(read_only=True)
    shortened = serializers.IntegerField(read_only=True)
    revoked = serializers.IntegerField(read_only=True, help_text="Revoked by a reviewer.")
    missed = serializers.IntegerField(read_only=True, help_text="Not reviewed by the deadline.")
    ended = serializers.IntegerField(read_only=True, help_text="Ended on their own before anyone reviewed them.")

    class Meta:
        model = ReviewCampaign
        fields = ["id", "name", "description", "created_by", "created_at", "deadline", "namespaces",
                  "sensitivities", "teams", "no_response_action", "state", "closed_at", *PROGRESS]
        read_only_fields = fields


class ReviewCampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH)
    description = serializers.CharField(required=False, default="", allow_blank=True, validators=[MaxTextLength()])
    deadline = serializers.DateTimeField(help_text="When the no-response action applies to what is not reviewed.")
    namespaces = NamesField(queryset=Namespace.objects.all(), slug_field="name", allow_empty=True, required=False,
                            default=list, help_text="Namespaces in scope; none: every namespace.")
    sensitivities = serializers.ListField(child=serializers.ChoiceField(choices=Sensitivity.choices),
                                          required=False, default=list, max_length=len(Sensitivity.values),
                                          help_text="Sensitivity levels in scope; none: every level.")
    teams = NamesField(queryset=Team.objects.all(), slug_field="slug", allow_empty=True, required=False,
                       default=list, help_text="Owning teams in scope (slugs); none: every team.")
    no_response_action = serializers.ChoiceField(choices=NoResponseAction.choices, default=NoResponseAction.REVOKE)


class ReviewItemSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    deadline = serializers.DateTimeField(source="campaign.deadline", read_only=True)
    namespace = serializers.CharField(source="grant.topic.namespace.name", read_only=True)
    topic = serializers.CharField(source="grant.topic.name", read_only=True)
    principal = serializers.CharField(source="grant.principal.name", read_only=True)
    valid_until = serializers.DateTimeField(source="grant.valid_until", read_only=True,
                                            help_text="The grant's end now.")
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ReviewItem
        fields = ["id", "campaign", "campaign_name", "deadline", "grant", "namespace", "topic", "principal",
                  "valid_until_at_start", "valid_until", "by_fallback", "decision", "decided_by", "decided_at",
                  "comment", "new_valid_until"]
        read_only_fields = fields


class ReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=REVIEWER_DECISION_CHOICES)
    comment = serializers.CharField(validators=[MaxTextLength()], help_text="Why (kept in the report and the trail).")
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                            help_text="To shorten: the grant's new end, earlier than now's.")
