"""Serializers of the catalogue API. They shape and pre-check input; topics.catalogue.services (or
portal.core.audited) validates, saves and audits. Related rows are named: team slug, retention class, cluster and
namespace names."""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team
from portal.core.limits import MaxTextLength, excerpt
from topics.catalogue.models import NO_SIZE_LIMIT, PASSWORD_REF_AGAIN, SIZE_LIMIT_MESSAGE
from topics.models import KafkaCluster, Namespace, RetentionClass, Topic

# Kubernetes' limits: a value of at most 63 characters; a key's name of 63 after a DNS prefix of at most 253
LABEL_VALUE_LENGTH = 63
LABEL_KEY_LENGTH = 253 + 1 + 63
MAX_BIGINT = 2**63 - 1  # a BigIntegerField's largest value


class KafkaClusterSerializer(serializers.ModelSerializer):
    """A cluster's connection. Its password is never stored, only where to find it (`sasl_password_ref`)."""

    class Meta:
        model = KafkaCluster
        fields = ["name", "bootstrap", "client_bootstrap", "security_protocol", "sasl_mechanism", "sasl_username",
                  "sasl_password_ref", "topic_name_template", "replication_factor", "enforce_acls", "read_allowlist",
                  "is_default"]
        read_only_fields = ["name"]

    def validate(self, attrs: dict) -> dict:
        cluster = self.instance
        if (cluster is not None and "sasl_password_ref" not in attrs
                and cluster.moving_needs_password_ref(attrs.get("bootstrap", cluster.bootstrap))):
            raise serializers.ValidationError({"sasl_password_ref": [PASSWORD_REF_AGAIN]})
        return attrs


class KafkaClusterCreateSerializer(KafkaClusterSerializer):
    class Meta(KafkaClusterSerializer.Meta):
        read_only_fields = []


@extend_schema_field({"type": "integer", "format": "int64", "minimum": NO_SIZE_LIMIT, "not": {"enum": [0]},
                     "description": "-1: no size limit; else a positive number of bytes."})
class SizeLimitField(serializers.IntegerField):
    """A retention size: -1 or positive (the rule of RetentionClass.clean, here so the schema shows it)."""

    default_error_messages = {"zero": SIZE_LIMIT_MESSAGE}

    def __init__(self, **kwargs) -> None:
        super().__init__(min_value=NO_SIZE_LIMIT, max_value=MAX_BIGINT, **kwargs)

    def to_internal_value(self, data) -> int:
        value = super().to_internal_value(data)
        if value == 0:
            self.fail("zero")
        return value


class RetentionClassSerializer(serializers.ModelSerializer):
    retention_bytes = SizeLimitField(required=False)

    class Meta:
        model = RetentionClass
        fields = ["name", "description", "retention_ms", "retention_bytes", "cleanup_policy", "partitions",
                  "archive_days"]
        read_only_fields = ["name"]


class RetentionClassCreateSerializer(RetentionClassSerializer):
    class Meta(RetentionClassSerializer.Meta):
        read_only_fields = []


class TopicSerializer(serializers.ModelSerializer):
    namespace = serializers.SlugRelatedField(slug_field="name", read_only=True)
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Topic
        fields = ["id", "name", "namespace", "cluster", "state", "last_error", "synced_at"]
        read_only_fields = fields


class NamespaceTopicSerializer(TopicSerializer):
    class Meta(TopicSerializer.Meta):
        fields = ["id", "name", "cluster", "state"]
        read_only_fields = fields


class NamespaceSerializer(serializers.ModelSerializer):
    """A namespace as shown, and its changeable fields. Labels come from Kubernetes (or registration)."""

    owner_team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all(), allow_null=True,
                                              help_text="The owning team's slug; null: no owner yet.")
    retention_class = serializers.SlugRelatedField(slug_field="name", queryset=RetentionClass.objects.all(),
                                                   help_text="The retention class's name.")
    suggested_owner_team = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True,
        help_text="The owner team its Kubernetes label suggests; it owns nothing until a platform admin confirms it "
                  "(POST …/confirm-owner/).")
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), read_only=True)
    topics = NamespaceTopicSerializer(many=True, read_only=True)

    class Meta:
        model = Namespace
        fields = ["name", "owner_team", "suggested_owner_team", "sensitivity", "retention_class", "lifecycle",
                  "discovered", "labels", "description", "created_at", "last_seen_at", "orphaned_at", "topics"]
        read_only_fields = ["name", "lifecycle", "discovered", "created_at", "last_seen_at", "orphaned_at"]


class NamespaceRegisterSerializer(NamespaceSerializer):
    """Registering a namespace by hand. Without `retention_class`, the default class is used."""

    retention_class = serializers.SlugRelatedField(slug_field="name", queryset=RetentionClass.objects.all(),
                                                   required=False,
                                                   help_text="The retention class's name; default: the "
                                                             "platform's default class.")
    owner_team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all(), allow_null=True,
                                              required=False, help_text="The owning team's slug.")
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=LABEL_VALUE_LENGTH),
                                   required=False, help_text="Kubernetes labels: values of at most 63 characters, "
                                                             "at most LOGWARDEN_MAX_LIST_LENGTH of them.")

    def validate_labels(self, labels: dict[str, str]) -> dict[str, str]:
        limit = settings.LOGWARDEN_MAX_LIST_LENGTH
        if len(labels) > limit:
            raise serializers.ValidationError(f"At most {limit} labels (these are {len(labels)}).")
        too_long = [excerpt(key) for key in labels if len(key) > LABEL_KEY_LENGTH]
        if too_long:
            raise serializers.ValidationError(f"Label keys are at most {LABEL_KEY_LENGTH} characters: "
                                              f"{', '.join(too_long[:3])}.")
        return labels

    class Meta(NamespaceSerializer.Meta):
        read_only_fields = [f for f in NamespaceSerializer.Meta.read_only_fields if f != "name"]


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(validators=[MaxTextLength()],
                                   help_text="Why the namespace is retired (recorded in the audit trail).")
