"""The admin site's pages of accounts. Every save and delete is audited (portal.admin.AuditedModelAdmin);
enabling and disabling people and service accounts goes through their services, which also end sessions and
the effect of grants on the broker, so those flags are read-only in the forms and changed by the actions."""
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpResponseRedirect

from accounts.models import ApiToken, GroupMapping, ServiceAccount, Team
from accounts.services import people, service_accounts, tokens
from portal.admin import AuditedModelAdmin
from portal.core import audit

User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


class ActivationActions:
    """The enable and disable actions of the admin pages of people and of service accounts: each goes through
    the person's or the account's service, which audits it and ends (or restores) sessions and the effect of
    grants on the broker."""

    actions = ["disable", "enable"]

    def users_of(self, queryset):
        """The users behind the selected rows."""
        return queryset

    @admin.action(description="Disable the selected %(verbose_name_plural)s (ends their sessions and their "
                              "grants' effect on the broker)")
    def disable(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Enable the selected %(verbose_name_plural)s")
    def enable(self, request, queryset):
        self._set_active(request, queryset, True)

    def _set_active(self, request, queryset, active: bool) -> None:
        for user in self.users_of(queryset).select_related("service_account"):
            account = getattr(user, "service_account", None)
            if account is not None:
                service_accounts.set_active(request.user, account, active)
            elif active:
                people.enable(request.user, user, context=self.audit_context)
            elif user == request.user:
                messages.error(request, "You cannot disable yourself.")
            else:
                people.disable(request.user, user, reason="disabled in the admin site", context=self.audit_context)


@admin.register(User)
class PersonAdmin(ActivationActions, AuditedModelAdmin, UserAdmin):
    """Django's user admin, audited. A new user's password never reaches the audit trail."""

    readonly_fields = ("is_active",)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        with transaction.atomic():
            obj.save()
            audit.record(request.user, "user.create", obj, **self.audit_context, username=obj.username,
                         is_staff=obj.is_staff, is_superuser=obj.is_superuser,
                         local_sign_in=obj.has_usable_password())

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            # success redirects to the user's page; a refused submission to the password page again
            if (request.method == "POST" and isinstance(response, HttpResponseRedirect)
                    and response.url != request.get_full_path()):
                user = User.objects.get(pk=id)
                audit.record(request.user, "user.password_change", user, **self.audit_context,
                             local_sign_in=user.has_usable_password())
        return response


@admin.register(Group)
class AuditedGroupAdmin(AuditedModelAdmin, GroupAdmin):
    """Django's group admin, audited (groups mirror the directory's at each sign-in and directory sync)."""


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
class ServiceAccountAdmin(ActivationActions, AuditedModelAdmin):
    list_display = ("name", "team", "is_active", "created_at")
    list_filter = ("team", "is_active")
    search_fields = ("name",)
    readonly_fields = ("user", "created_by", "created_at", "is_active")

    def has_add_permission(self, request):
        return False  # created through the portal, which also creates the account's API user

    def has_delete_permission(self, request, obj=None):
        return False  # a deleted account's user would keep its grants: disable it instead

    def users_of(self, queryset):
        return User.objects.filter(service_account__in=queryset)


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
