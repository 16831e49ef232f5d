from django.contrib import admin

from portal import audit
from portal.models import AuditEvent


class AuditedModelAdmin(admin.ModelAdmin):
    """Every save and delete in the admin site writes an audit event naming the changed fields."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        name = obj._meta.model_name
        if change:
            changed = {f: str(form.cleaned_data.get(f)) for f in form.changed_data}
            if changed:
                audit.record(request.user, f"{name}.update", obj, source="admin", changes=changed)
        else:
            audit.record(request.user, f"{name}.create", obj, source="admin")
        self.after_save(obj, form.changed_data)

    def after_save(self, obj, changed_fields) -> None:
        """Hook for follow-up work (such as a broker sync) once an object changed."""

    def delete_model(self, request, obj):
        audit.record(request.user, f"{obj._meta.model_name}.delete", obj, source="admin")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit.record(request.user, f"{obj._meta.model_name}.delete", obj, source="admin")
        super().delete_queryset(request, queryset)


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
