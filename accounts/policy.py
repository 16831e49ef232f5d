"""Who may do what: the one place where Logwarden's permission rules live.

Views, API viewsets and services ask these functions; none of them re-implements a rule.
"""
from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ServiceAccount, Team
from accounts.services.identity import Identity, identity_of


def _identity(user_or_identity) -> Identity:
    return user_or_identity if isinstance(user_or_identity, Identity) else identity_of(user_or_identity)


def can_browse_catalogue(who) -> bool:
    """Namespaces, topics, teams, retention classes: any signed-in person or active service account."""
    return _identity(who).authenticated


def can_manage_catalogue(who) -> bool:
    """Clusters, retention classes, namespaces, teams and group mappings."""
    return _identity(who).is_admin


def can_read_audit(who) -> bool:
    identity = _identity(who)
    return identity.is_admin or identity.is_auditor


def can_manage_service_accounts(who, team: Team | int | None) -> bool:
    """Create/disable a team's service accounts and issue or revoke their tokens: the team's people."""
    identity = _identity(who)
    if identity.service_account is not None:
        return False  # a program never mints credentials for programs
    return identity.is_admin or identity.in_team(team)


def can_see_service_account(who, account: ServiceAccount) -> bool:
    """Admins and auditors: all; people: their teams' accounts; a service account: itself only."""
    identity = _identity(who)
    if identity.service_account is not None:
        return identity.service_account.pk == account.pk
    return identity.is_admin or identity.is_auditor or identity.in_team(account.team_id)


def service_accounts_visible_to(who, queryset: QuerySet[ServiceAccount] | None = None) -> QuerySet[ServiceAccount]:
    """The queryset form of `can_see_service_account`, for lists."""
    identity = _identity(who)
    queryset = ServiceAccount.objects.all() if queryset is None else queryset
    if identity.service_account is not None:
        return queryset.filter(pk=identity.service_account.pk)
    if identity.is_admin or identity.is_auditor:
        return queryset
    return queryset.filter(team_id__in=identity.team_ids)
