"""Serializers of the catalogue API. They shape and pre-check input; topics.catalogue.services (or
portal.core.audited) validates, saves and audits. Related rows are named: team slug, retention class, cluster and
namespace names."""
from __future__ import annotations

from rest_framework import serializers

from accounts.models import Team
from topics.models import KafkaCluster, Namespace, RetentionClass, Topic


class KafkaClusterSerializer(serializers.ModelSerializer):
    """A cluster's connection. Its password is never stored, only where to find it (`sasl_password_ref`)."""

    class Meta:
        model = KafkaCluster
        fields = ["name", "bootstrap", "client_bootstrap", "security_protocol", "sasl_mechanism", "sasl_username",
                  "sasl_password_ref", "topic_name_template", "replication_factor", "enforce_acls", "read_allowlist",
                  "is_default"]
        read_only_fields = ["name"]


class KafkaClusterCreateSerializer(KafkaClusterSerializer):
    class Meta(KafkaClusterSerializer.Meta):
        read_only_fields = []


class RetentionClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = RetentionClass
        fields = ["name", "description", "retention_ms", "retention_bytes", "cleanup_policy", "partitions"]
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
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), read_only=True)
    topics = NamespaceTopicSerializer(many=True, read_only=True)

    class Meta:
        model = Namespace
        fields = ["name", "owner_team", "sensitivity", "retention_class", "lifecycle", "discovered", "labels",
                  "description", "created_at", "last_seen_at", "orphaned_at", "topics"]
        read_only_fields = ["name", "lifecycle", "discovered", "created_at", "last_seen_at", "orphaned_at"]


class NamespaceRegisterSerializer(NamespaceSerializer):
    """Registering a namespace by hand. Without `retention_class`, the default class is used."""

    retention_class = serializers.SlugRelatedField(slug_field="name", queryset=RetentionClass.objects.all(),
                                                   required=False,
                                                   help_text="The retention class's name; default: the "
                                                             "platform's default class.")
    owner_team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all(), allow_null=True,
                                              required=False, help_text="The owning team's slug.")
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)

    class Meta(NamespaceSerializer.Meta):
        read_only_fields = [f for f in NamespaceSerializer.Meta.read_only_fields if f != "name"]


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the namespace is retired (recorded in the audit trail).")
