"""Serializers of the identity API. They shape and pre-check input; the services validate, save and audit."""
from __future__ import annotations

from rest_framework import serializers

from accounts.models import ApiToken, GroupMapping, Notification, ServiceAccount, Team
from accounts.services.identity import members_of


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name", "description", "created_at"]
        read_only_fields = ["slug", "created_at"]  # the slug names the team in URLs and discovery labels


class TeamCreateSerializer(TeamSerializer):
    class Meta(TeamSerializer.Meta):
        read_only_fields = ["created_at"]


class TeamDetailSerializer(TeamSerializer):
    members = serializers.SerializerMethodField(help_text="Usernames of the people whose LDAP groups map to the "
                                                          "team (as of their last sign-in).")
    service_accounts = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta(TeamSerializer.Meta):
        fields = [*TeamSerializer.Meta.fields, "members", "service_accounts"]

    def get_members(self, team: Team) -> list[str]:
        return list(members_of(team).values_list("username", flat=True))


class GroupMappingSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all(), required=False,
                                        allow_null=True)

    class Meta:
        model = GroupMapping
        fields = ["id", "ldap_group", "team", "role"]
        # duplicates and mappings to nothing are refused by accounts.services.mappings (full_clean); DRF's
        # unique-together validators would also make the optional team and role required
        validators = []


class ServiceAccountSerializer(serializers.ModelSerializer):
    """Once created, only `is_active` changes (disable or enable the account and its tokens)."""

    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ServiceAccount
        fields = ["name", "team", "description", "is_active", "created_by", "created_at"]
        read_only_fields = ["name", "description", "created_at"]


class ServiceAccountCreateSerializer(ServiceAccountSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())

    class Meta(ServiceAccountSerializer.Meta):
        read_only_fields = ["is_active", "created_at"]


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as it can be shown at any time: its public prefix and dates, never the secret or its digest."""

    class Meta:
        model = ApiToken
        fields = ["prefix", "name", "created_at", "expires_at", "revoked_at", "last_used_at"]
        read_only_fields = ["prefix", "created_at", "revoked_at", "last_used_at"]
        extra_kwargs = {"expires_at": {"help_text": "In the future; empty or null: the token never expires."}}


class IssuedTokenSerializer(ApiTokenSerializer):
    """A token just issued: the only response that carries its secret."""

    token = serializers.SerializerMethodField(help_text="The secret, shown in this response only: send it as "
                                                        "'Authorization: Bearer <token>'.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]

    def get_token(self, token: ApiToken) -> str:
        return self.context["secret"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "link", "created_at", "read_at"]
        read_only_fields = fields


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(help_text="How many unread notifications were marked as read.")
