"""Who may call the identity API: each class asks accounts.policy; the viewsets scope their querysets with it."""
from __future__ import annotations

from rest_framework import permissions

from accounts import policy
from accounts.models import ApiToken, ServiceAccount, Team
from portal.api.support import PolicyPermission


class TeamPermission(PolicyPermission):
    read_rule = staticmethod(policy.can_browse_catalogue)
    write_rule = staticmethod(policy.can_manage_catalogue)


class GroupMappingPermission(PolicyPermission):
    """Mappings decide roles: auditors read them, admins change them."""

    read_rule = staticmethod(policy.can_read_audit)
    write_rule = staticmethod(policy.can_manage_catalogue)


def _team_of(obj: Team | ServiceAccount | ApiToken) -> Team | int:
    if isinstance(obj, ApiToken):
        return obj.service_account.team_id
    return obj.team_id if isinstance(obj, ServiceAccount) else obj


class ServiceAccountPermission(permissions.BasePermission):
    """Service accounts and their tokens. Reads: whatever policy.service_accounts_visible_to leaves in the
    viewset's queryset. Creating an account (checked against the team in the body), enabling or disabling
    it, issuing and revoking its tokens: policy.can_manage_service_accounts for the account's team."""

    def has_permission(self, request, view) -> bool:
        return policy.can_browse_catalogue(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return (request.method in permissions.SAFE_METHODS
                or policy.can_manage_service_accounts(request.user, _team_of(obj)))
