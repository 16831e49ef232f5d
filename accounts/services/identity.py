"""Who someone is in Logwarden: their teams and roles, derived from LDAP groups through GroupMapping."""
from __future__ import annotations

from dataclasses import dataclass

from accounts.models import GroupMapping, Role, ServiceAccount, Team


@dataclass(frozen=True)
class Identity:
    authenticated: bool
    roles: frozenset[str]
    team_ids: frozenset[int]
    service_account: ServiceAccount | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_admin(self) -> bool:
        return Role.PLATFORM_ADMIN in self.roles

    @property
    def is_auditor(self) -> bool:
        return Role.AUDITOR in self.roles

    def in_team(self, team: Team | int | None) -> bool:
        team_id = team.pk if isinstance(team, Team) else team
        return team_id is not None and team_id in self.team_ids


ANONYMOUS = Identity(False, frozenset(), frozenset())


def identity_of(user) -> Identity:
    """Roles and teams of `user` (cached on the user object for the request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_logwarden_identity", None)
    if cached is not None:
        return cached
    service_account = ServiceAccount.objects.filter(user=user).select_related("team").first()
    if service_account is not None:
        if not service_account.is_active:
            return ANONYMOUS
        identity = Identity(True, frozenset({Role.ENGINEER}), frozenset({service_account.team_id}), service_account)
    else:
        groups = list(user.groups.values_list("name", flat=True))
        roles, teams = set(), set()
        for mapping in GroupMapping.objects.filter(ldap_group__in=groups):
            if mapping.role:
                roles.add(mapping.role)
            if mapping.team_id:
                teams.add(mapping.team_id)
        if user.is_superuser:
            roles.add(Role.PLATFORM_ADMIN)
        if teams:
            roles.add(Role.ENGINEER)
        identity = Identity(True, frozenset(roles), frozenset(teams))
    user._logwarden_identity = identity
    return identity


def members_of(team: Team):
    """People whose LDAP groups map to `team` (as of their last sign-in)."""
    from django.contrib.auth import get_user_model

    groups = GroupMapping.objects.filter(team=team).values_list("ldap_group", flat=True)
    return (get_user_model().objects.filter(groups__name__in=list(groups), is_active=True,
                                            service_account__isnull=True)
            .distinct().order_by("username"))
