from django.contrib import admin

from portal.core import audit, audited
from portal.models import AuditEvent


class AuditedModelAdmin(admin.ModelAdmin):
    """Saves and deletes in the admin site go through portal.core.audited, like the API's: validated, and one
    audit event each (marked as coming from the admin site)."""

    audit_context = {"source": "admin"}

    def save_model(self, request, obj, form, change):
        if change:  # the form changed `obj` in memory; audited.save needs the stored row to tell what changed
            stored = type(obj).objects.get(pk=obj.pk)
            # many-to-many fields are saved by save_related; a form's own fields (a confirmation) are no columns
            columns = {field.name for field in obj._meta.concrete_fields}
            changed = audited.save(request.user, stored, context=self.audit_context,
                                   **{field: getattr(obj, field) for field in form.changed_data
                                      if field in columns})
        else:
            changed = audited.save(request.user, obj, context=self.audit_context)
        self.after_save(obj, changed)

    def save_related(self, request, form, formsets, change):
        """Many-to-many fields (a user's groups, a group's permissions) are saved after the row, so their
        changes are audited here, as the same `<kind>.update` event shape."""
        fields = [name for name in form.changed_data
                  if name in {field.name for field in form.instance._meta.many_to_many}]
        before = {name: self._members(form.instance, name) for name in fields}
        super().save_related(request, form, formsets, change)
        diff = {name: {"from": before[name], "to": self._members(form.instance, name)} for name in fields}
        diff = {name: values for name, values in diff.items() if values["from"] != values["to"]}
        if diff:
            audit.record(request.user, f"{audited.kind(form.instance)}.update", form.instance,
                         **self.audit_context, changes=diff)

    @staticmethod
    def _members(obj, name: str) -> list[str]:
        return sorted(str(member) for member in getattr(obj, name).all())

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
