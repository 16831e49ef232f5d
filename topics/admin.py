from django.contrib import admin

from portal.admin import AuditedModelAdmin
from topics import queue
from topics.catalogue.forms import KafkaClusterForm
from topics.models import KafkaCluster, Namespace, RetentionClass, SensitivityPolicy, Topic


@admin.register(KafkaCluster)
class KafkaClusterAdmin(AuditedModelAdmin):
    form = KafkaClusterForm
    list_display = ("name", "bootstrap", "security_protocol", "is_default", "enforce_acls")


@admin.register(RetentionClass)
class RetentionClassAdmin(AuditedModelAdmin):
    list_display = ("name", "retention_ms", "retention_bytes", "cleanup_policy", "partitions", "archive_days")

    def after_save(self, obj, changed_fields):
        if changed_fields:
            queue.sync_topics(Topic.objects.filter(namespace__retention_class=obj)
                                     .values_list("pk", flat=True))


@admin.register(Namespace)
class NamespaceAdmin(AuditedModelAdmin):
    list_display = ("name", "owner_team", "sensitivity", "retention_class", "lifecycle", "discovered")
    list_filter = ("lifecycle", "sensitivity", "owner_team", "retention_class", "discovered")
    search_fields = ("name", "description")

    def after_save(self, obj, changed_fields):
        if "retention_class" in changed_fields:
            queue.sync_topics(obj.topics.values_list("pk", flat=True))


@admin.register(SensitivityPolicy)
class SensitivityPolicyAdmin(AuditedModelAdmin):
    list_display = ("level", "approvals_required", "max_grant_days", "max_credential_age_days", "read_from")


@admin.register(Topic)
class TopicAdmin(AuditedModelAdmin):
    list_display = ("name", "cluster", "namespace", "state", "synced_at")
    list_filter = ("cluster", "state")
    search_fields = ("name",)
    # a topic is created by registering its namespace and never renamed or moved by hand; the reconciler
    # owns its state
    readonly_fields = ("name", "cluster", "namespace", "state", "last_error", "synced_at")

    def has_add_permission(self, request):
        return False
