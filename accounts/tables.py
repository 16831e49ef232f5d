"""Tables of the identity pages: teams, members, service-account tokens and group mappings."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, CharField, Count, QuerySet, Value, When
from django.db.models.functions import Now

from accounts.forms import TokenForm
from accounts.models import ServiceAccount
from portal.web.tables import Table


class TeamTable(Table):
    columns = ("Team", "LDAP groups", "Namespaces", "Service accounts")
    row_template = "accounts/_team_row.html"
    empty_message = "No teams yet. Teams come from group mappings of LDAP groups."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.prefetch_related("group_mappings").annotate(
            namespace_count=Count("namespaces", distinct=True),
            service_account_count=Count("service_accounts", distinct=True)).order_by("slug")


class MemberTable(Table):
    columns = ("Username", "Name", "Email", "Last sign-in")
    row_template = "accounts/_member_row.html"
    empty_message = "Nobody yet: people appear here after their first sign-in."


class TokenTable(Table):
    columns = ("Prefix", "Name", "Status", "Created", "Expires", "Last used", "")
    row_template = "accounts/_token_row.html"
    empty_message = "No tokens."

    def __init__(self, rows: QuerySet, *, can_revoke: bool, **kwargs) -> None:
        super().__init__(rows, **kwargs)
        self.can_revoke = can_revoke

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("service_account__team").annotate(status=Case(
            When(revoked_at__isnull=False, then=Value("revoked")),
            When(expires_at__lte=Now(), then=Value("expired")),
            default=Value("active"), output_field=CharField()))


class GroupMappingTable(Table):
    columns = ("LDAP group", "Team", "Role", "")
    row_template = "accounts/_mapping_row.html"
    empty_message = "No group mappings: nobody who signs in belongs to a team or has a role."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("team")


@dataclass(frozen=True)
class ServiceAccountPanel:
    """A service account on its team's page: its tokens and, for the team's people, the issue-token form."""

    account: ServiceAccount
    tokens: TokenTable
    token_form: TokenForm | None


class NotificationTable(Table):
    columns = ("When", "Subject", "Message", "")
    row_template = "accounts/_notification_row.html"
    empty_message = "No notifications."
