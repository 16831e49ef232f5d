from django.contrib import admin

from accounts.models import ApiToken, GroupMapping, ServiceAccount, Team
from accounts.services import tokens
from portal.admin import AuditedModelAdmin


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ("slug", "name")
    search_fields = ("slug", "name")


@admin.register(GroupMapping)
class GroupMappingAdmin(AuditedModelAdmin):
    list_display = ("ldap_group", "team", "role")
    list_filter = ("role", "team")
    search_fields = ("ldap_group",)


@admin.register(ServiceAccount)
class ServiceAccountAdmin(AuditedModelAdmin):
    list_display = ("name", "team", "is_active", "created_at")
    list_filter = ("team", "is_active")
    search_fields = ("name",)
    readonly_fields = ("user", "created_by", "created_at")

    def has_add_permission(self, request):
        return False  # created through the portal, which also creates the account's API user


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    list_display = ("prefix", "service_account", "name", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("service_account",)
    # a revoked token can never be revived, nor an expiry moved: revoke and issue anew through the portal
    readonly_fields = ("service_account", "name", "prefix", "created_by", "created_at", "expires_at", "revoked_at",
                       "last_used_at")
    exclude = ("digest",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # issued through the portal, which shows the token once

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True).select_related("service_account"):
            tokens.revoke(request.user, token)  # audited as token.revoke
