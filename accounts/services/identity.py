"""Who someone is in Logwarden: their teams and roles, derived from LDAP groups through GroupMapping."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q

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
    prime_identities([user])
    return user._logwarden_identity


def prime_identities(users: Iterable) -> None:
    """Works out identity_of for every one of `users` in three queries, whatever their number, and caches it on
    each user object: for lists of people, such as a namespace's possible approvers."""
    users = [user for user in users if user is not None and user.is_authenticated and user.is_active
             and getattr(user, "_logwarden_identity", None) is None]
    if not users:
        return
    accounts = {account.user_id: account
                for account in ServiceAccount.objects.filter(user__in=users).select_related("team")}
    groups: dict[int, list[str]] = defaultdict(list)
    memberships = (get_user_model().groups.through.objects.filter(user__in=[u for u in users if u.pk not in accounts])
                   .values_list("user_id", "group__name"))
    for user_id, group in memberships:
        groups[user_id].append(group)
    mappings: dict[str, list[GroupMapping]] = defaultdict(list)
    for mapping in GroupMapping.objects.filter(ldap_group__in={g for names in groups.values() for g in names}):
        mappings[mapping.ldap_group].append(mapping)
    for user in users:
        user._logwarden_identity = _identity(user, accounts.get(user.pk),
                                             [m for group in groups[user.pk] for m in mappings[group]])


def _identity(user, service_account: ServiceAccount | None, mappings: Iterable[GroupMapping]) -> Identity:
    """An active user's identity: a service account's is its team's engineer (none once disabled); a person's
    roles and teams come from the mappings of their groups, superusers are platform admins."""
    if service_account is not None:
        if not service_account.is_active:
            return ANONYMOUS
        return Identity(True, frozenset({Role.ENGINEER}), frozenset({service_account.team_id}), service_account)
    roles = {mapping.role for mapping in mappings if mapping.role}
    teams = {mapping.team_id for mapping in mappings if mapping.team_id}
    if user.is_superuser:
        roles.add(Role.PLATFORM_ADMIN)
    if teams:
        roles.add(Role.ENGINEER)
    return Identity(True, frozenset(roles), frozenset(teams))


def members_of(team: Team):
    """People whose LDAP groups map to `team` (as of their last sign-in)."""
    groups = GroupMapping.objects.filter(team=team).values_list("ldap_group", flat=True)
    return _active_people(Q(groups__name__in=list(groups)))


def people_with_role(role: str):
    """Active people (not service accounts) whose LDAP groups map to `role` (as of their last sign-in);
    superusers too for the platform-admin role."""
    groups = list(GroupMapping.objects.filter(role=role).values_list("ldap_group", flat=True))
    holders = Q(groups__name__in=groups)
    if role == Role.PLATFORM_ADMIN:
        holders |= Q(is_superuser=True)
    return _active_people(holders)


def _active_people(condition: Q):
    """Active people (never service accounts) meeting `condition`, each once, by username."""
    return (get_user_model().objects.filter(condition, is_active=True, service_account__isnull=True)
            .distinct().order_by("username"))
