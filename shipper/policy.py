"""Who may do what with shipper fleets: the shipper app's one policy module.

Platform admins manage fleets (settings, apply, dry run, rollback); auditors read them (settings, revisions
and their diffs, health, drift) because the fleet decides where every namespace's logs go; everyone else sees
no fleet at all (the list is a 403, a fleet a 404).
"""
from __future__ import annotations

from django.db.models import QuerySet

from accounts import policy as accounts_policy
from shipper.fleet.models import CanaryNode, Fleet, FleetRevision

can_manage_fleets = accounts_policy.can_manage_catalogue
can_view_fleets = accounts_policy.can_read_audit


def fleets_visible_to(who, queryset: QuerySet[Fleet] | None = None) -> QuerySet[Fleet]:
    queryset = Fleet.objects.all() if queryset is None else queryset
    return queryset if can_view_fleets(who) else queryset.none()


def revisions_visible_to(who) -> QuerySet[FleetRevision]:
    return FleetRevision.objects.filter(fleet__in=fleets_visible_to(who))


def canary_nodes_visible_to(who) -> QuerySet[CanaryNode]:
    return CanaryNode.objects.filter(fleet__in=fleets_visible_to(who))
