"""Serializers of the access API: principals, requests and their decisions, grants. They shape and pre-check
input; topics.access.services validates, saves and audits. Related rows are named as everywhere in the API:
principals (u.alice, sa.payments-etl), namespaces, clusters and people (usernames)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.support import NamesField
from portal.core.limits import MaxTextLength
from topics import policy
from topics.models import AccessRequest, Approval, Decision, Grant, KafkaPrincipal, Namespace, RequestItem, Topic
from topics.provisioning.api.serializers import PRINCIPAL_HELP
from topics.provisioning.principals import requestable_principal


class PrincipalSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=[("person", "person"), ("service_account", "service account")],
                                   read_only=True)

    class Meta:
        model = KafkaPrincipal
        fields = ["name", "kind", "group_prefix"]
        read_only_fields = fields
        extra_kwargs = {"group_prefix": {"help_text": "Its consumer groups must start with this."}}


class RequestablePrincipalField(serializers.CharField):
    """A principal the caller may request access for (topics.provisioning.principals.requestable_principal), by
    name; created when the request names it, never by reading."""

    default_error_messages = {"does_not_exist": "Not a principal you may request access for: {value}. "
                                                "GET /api/principals/ lists yours."}

    def __init__(self, **kwargs) -> None:
        super().__init__(help_text=PRINCIPAL_HELP, **kwargs)

    def to_internal_value(self, data) -> KafkaPrincipal:
        name = super().to_internal_value(data)
        principal = requestable_principal(self.context["request"].user, name)
        if principal is None:
            self.fail("does_not_exist", value=name)
        return principal


# --- requests and decisions --------------------------------------------------------------------------------

class ApprovalSerializer(serializers.ModelSerializer):
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Approval
        fields = ["approver", "decision", "comment", "created_at"]
        read_only_fields = fields


class RequestItemSerializer(serializers.ModelSerializer):
    """One namespace of a request, decided on its own by that namespace's owners."""

    namespace = serializers.SlugRelatedField(slug_field="name", read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)
    deciders_left = serializers.SerializerMethodField(
        help_text="Who may still decide it (usernames): its owners who have not decided yet, other than the "
                  "requester and anyone who can act as the principal. Empty once it is closed.")

    class Meta:
        model = RequestItem
        fields = ["id", "namespace", "state", "approvals_required", "approvals", "deciders_left", "decided_at"]
        read_only_fields = fields

    def get_deciders_left(self, item: RequestItem) -> list[str]:
        return [person.username for person in policy.deciders_left(item)]


class QueuedItemSerializer(RequestItemSerializer):
    """An item waiting for the caller's decision, with what its request asks for."""

    request = serializers.PrimaryKeyRelatedField(read_only=True)
    requester = serializers.SlugRelatedField(source="request.requester", slug_field="username", read_only=True)
    principal = serializers.SlugRelatedField(source="request.principal", slug_field="name", read_only=True)
    reason = serializers.CharField(source="request.reason", read_only=True)
    duration_days = serializers.IntegerField(source="request.duration_days", read_only=True)
    requested_at = serializers.DateTimeField(source="request.created_at", read_only=True)
    sensitivity = serializers.CharField(source="namespace.sensitivity", read_only=True)

    class Meta(RequestItemSerializer.Meta):
        fields = ["id", "request", "requester", "principal", "namespace", "sensitivity", "reason", "duration_days",
                  "requested_at", "state", "approvals_required", "approvals", "deciders_left"]
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(validators=[MaxTextLength()],
                                    help_text="Why (kept with the decision and in the audit trail).")


class GrantSerializer(serializers.ModelSerializer):
    principal = serializers.SlugRelatedField(slug_field="name", read_only=True)
    namespace = serializers.CharField(source="topic.namespace.name", read_only=True)
    topic = serializers.CharField(source="topic.name", read_only=True)
    cluster = serializers.CharField(source="topic.cluster.name", read_only=True)
    request = serializers.IntegerField(source="request_item.request_id", read_only=True, allow_null=True,
                                       help_text="The access request it came from; null for other sources.")
    granted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    ended_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Grant
        fields = ["id", "principal", "namespace", "topic", "cluster", "valid_from", "valid_until", "source", "state",
                  "request", "granted_by", "reason", "ended_at", "ended_by", "end_reason"]
        read_only_fields = fields


class AccessRequestSerializer(serializers.ModelSerializer):
    requester = serializers.SlugRelatedField(slug_field="username", read_only=True)
    principal = serializers.SlugRelatedField(slug_field="name", read_only=True)
    namespaces = serializers.SerializerMethodField(help_text="The namespaces asked for.")

    class Meta:
        model = AccessRequest
        fields = ["id", "requester", "principal", "namespaces", "reason", "duration_days", "state", "created_at",
                  "closed_at"]
        read_only_fields = fields

    def get_namespaces(self, request: AccessRequest) -> list[str]:
        return [item.namespace.name for item in request.items.all()]


class AccessRequestDetailSerializer(AccessRequestSerializer):
    items = RequestItemSerializer(many=True, read_only=True)
    grants = serializers.SerializerMethodField(help_text="The grants its approved namespaces produced.")

    class Meta(AccessRequestSerializer.Meta):
        fields = [*AccessRequestSerializer.Meta.fields, "items", "grants"]
        read_only_fields = fields

    @extend_schema_field(GrantSerializer(many=True))
    def get_grants(self, request: AccessRequest) -> list:
        grants = [grant for item in request.items.all() for grant in item.grants.all()]
        return GrantSerializer(grants, many=True, context=self.context).data


class AccessRequestCreateSerializer(serializers.Serializer):
    """Read access to one or more namespaces, for oneself or one of one's teams' service accounts. The longest
    duration is the strictest namespace's policy (topics.access.services)."""

    principal = RequestablePrincipalField()
    namespaces = NamesField(queryset=Namespace.objects.all(), slug_field="name",
                            help_text="Namespace names (at most LOGWARDEN_MAX_LIST_LENGTH).")
    reason = serializers.CharField(validators=[MaxTextLength()],
                                   help_text="Why access is needed (the owners read it).")
    duration_days = serializers.IntegerField(min_value=1, help_text="How long the grant lasts, in days (at most "
                                                                    "the namespaces' sensitivity policy allows).")


class GrantCreateSerializer(serializers.Serializer):
    """A platform admin's grant without a request, on a namespace's topic (by namespace name, when it has one
    topic) or on a topic (by id)."""

    principal = serializers.SlugRelatedField(slug_field="name", queryset=KafkaPrincipal.objects.all(),
                                             help_text=PRINCIPAL_HELP)
    namespace = serializers.SlugRelatedField(slug_field="name", queryset=Namespace.objects.all(), required=False,
                                             help_text="The namespace's name; or give `topic`.")
    topic = serializers.PrimaryKeyRelatedField(queryset=Topic.objects.select_related("cluster", "namespace"),
                                               required=False, help_text="The topic's id; or give `namespace`.")
    days = serializers.IntegerField(min_value=1, help_text="How long the grant lasts, in days (at most the "
                                                           "namespace's sensitivity policy allows).")
    reason = serializers.CharField(validators=[MaxTextLength()],
                                   help_text="Why access is granted (recorded in the audit trail).")

    def validate(self, attrs: dict) -> dict:
        namespace = attrs.pop("namespace", None)
        if (namespace is None) == ("topic" not in attrs):
            raise serializers.ValidationError({"namespace": ["Give either a namespace or a topic."]})
        if namespace is not None:
            topics = list(namespace.topics.select_related("cluster", "namespace")[:2])
            if len(topics) != 1:
                where = "no topic yet" if not topics else "topics on several clusters: give the topic's id"
                raise serializers.ValidationError({"namespace": [f"{namespace.name} has {where}."]})
            attrs["topic"] = topics[0]
        return attrs


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(validators=[MaxTextLength()],
                                   help_text="Why the grant is revoked (recorded in the audit trail).")
