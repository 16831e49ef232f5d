from django.contrib import admin

from portal.core import audited
from portal.models import AuditEvent


class AuditedModelAdmin(admin.ModelAdmin):
    """Saves and deletes in the admin site go through portal.core.audited, like the API's: validated, and one
    audit event each (marked as coming from the admin site)."""

    audit_context = {"source": "admin"}

    def save_model(self, request, obj, form, change):
        if change:  # the form changed `obj` in memory; audited.save needs the stored row to tell what changed
            stored = type(obj).objects.get(pk=obj.pk)
            changed = audited.save(request.user, stored, context=self.audit_context,
                                   **{field: getattr(obj, field) for field in form.changed_data})
        else:
            changed = audited.save(request.user, obj, context=self.audit_context)
        self.after_save(obj, changed)

    def after_save(self, obj, changed_fields: set[str]) -> None:
        """Hook for follow-up work (such as a broker sync) once fields of an object changed."""

    def delete_model(self, request, obj):
        audited.delete(request.user, obj, context=self.audit_context)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audited.delete(request.user, obj, context=self.audit_context)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("sequence", "occurred_at", "actor_label", "action", "target_type", "target_label")
    list_filter = ("action", "target_type")
    search_fields = ("actor_label", "target_label", "target_id", "action")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
