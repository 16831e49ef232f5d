"""Filters of access requests and grants, shared by the API (query parameters) and the web pages (the filter
form), and the scopes both start from: which requests, grants and request items a person may list.

Related rows are chosen by their names, as everywhere in the API: `namespace=payments`, `cluster=default`,
`principal=u.alice` (or `sa.payments-etl`), `requester=alice`. The FilterSets filter whatever queryset they
are given; the scopes below decide what that queryset may hold.
"""
from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from accounts import policy
from accounts.models import Role
from accounts.services.identity import identity_of
from topics.models import (AccessRequest, Approval, Grant, GrantSource, GrantState, KafkaCluster, KafkaPrincipal,
                           Namespace, RequestItem, RequestState)
from topics.services import access


class AccessRequestFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=RequestState.choices)
    namespace = django_filters.ModelChoiceFilter(field_name="items__namespace", queryset=Namespace.objects.all(),
                                                 to_field_name="name", distinct=True, label="Namespace",
                                                 help_text="A namespace asked for, by name.")
    principal = django_filters.ModelChoiceFilter(queryset=KafkaPrincipal.objects.all(), to_field_name="name",
                                                 widget=forms.TextInput,
                                                 help_text="Who the access is for, e.g. u.alice or sa.payments-etl.")
    requester = django_filters.CharFilter(field_name="requester__username", help_text="Who asked: a username.")
    created_at = django_filters.IsoDateTimeFromToRangeFilter(
        help_text="created_at_after / created_at_before: ISO 8601 date-times, both included.")

    class Meta:
        model = AccessRequest
        fields = ["state", "namespace", "principal", "requester", "created_at"]


class GrantFilterSet(django_filters.FilterSet):
    namespace = django_filters.ModelChoiceFilter(field_name="topic__namespace", queryset=Namespace.objects.all(),
                                                 to_field_name="name", label="Namespace",
                                                 help_text="The namespace's name.")
    principal = django_filters.ModelChoiceFilter(queryset=KafkaPrincipal.objects.all(), to_field_name="name",
                                                 widget=forms.TextInput,
                                                 help_text="The holder, e.g. u.alice or sa.payments-etl.")
    state = django_filters.ChoiceFilter(choices=GrantState.choices)
    source = django_filters.ChoiceFilter(choices=GrantSource.choices)
    cluster = django_filters.ModelChoiceFilter(field_name="topic__cluster", queryset=KafkaCluster.objects.all(),
                                               to_field_name="name", label="Cluster", help_text="The cluster's name.")
    valid_until = django_filters.IsoDateTimeFromToRangeFilter(
        help_text="valid_until_after / valid_until_before: ISO 8601 date-times, both included.")

    class Meta:
        model = Grant
        fields = ["namespace", "principal", "state", "source", "cluster", "valid_until"]


# --- scopes: the queryset forms of the access rules, for lists ---------------------------------------------

def _owned_namespaces(who) -> Q:
    """Namespaces whose owners `who` is among (topics.services.access decides with policy.is_namespace_owner)."""
    identity = identity_of(who)
    if not identity.has_role(Role.NAMESPACE_OWNER):
        return Q(pk__in=[])
    return Q(owner_team_id__in=identity.team_ids)


def sees_everything(who) -> bool:
    """Auditors and admins see every request and grant."""
    return policy.can_read_audit(who)


def requests_visible_to(who, queryset: QuerySet[AccessRequest] | None = None) -> QuerySet[AccessRequest]:
    """The requester's own requests, those on namespaces they decide on, and all for auditors and admins."""
    queryset = AccessRequest.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    decided_here = RequestItem.objects.filter(namespace__in=Namespace.objects.filter(_owned_namespaces(who)))
    return queryset.filter(Q(requester=who) | Q(pk__in=decided_here.values("request_id")))


def grants_visible_to(who, queryset: QuerySet[Grant] | None = None) -> QuerySet[Grant]:
    """Grants of the principals one acts for (oneself, one's teams' service accounts), grants on the namespaces
    one owns, and all for auditors and admins."""
    queryset = Grant.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    own = [principal.pk for principal in access.requestable_principals(who)]
    owned = Namespace.objects.filter(_owned_namespaces(who))
    return queryset.filter(Q(principal_id__in=own) | Q(topic__namespace__in=owned))


def reviews_namespace(who, namespace: Namespace) -> bool:
    """Sees every grant on the namespace: its owners, auditors and admins."""
    return sees_everything(who) or policy.is_namespace_owner(who, namespace.owner_team_id)


def waiting_for(who) -> list[RequestItem]:
    """Pending items `who` may decide (topics.services.access.may_decide) and has not decided yet, oldest first."""
    identity = identity_of(who)
    # narrows to the namespaces `who` could own (or the ownerless ones, for admins); may_decide has the last word
    decidable = Q(namespace__owner_team_id__in=identity.team_ids) if identity.has_role(Role.NAMESPACE_OWNER) else Q()
    if identity.is_admin:
        decidable |= Q(namespace__owner_team__isnull=True)
    if not decidable:
        return []
    items = (RequestItem.objects.filter(decidable, state=RequestState.PENDING)
             .exclude(pk__in=Approval.objects.filter(approver=who).values("item_id"))
             .select_related("request__principal", "request__requester", "namespace__owner_team")
             .order_by("request__created_at", "namespace__name"))
    return [item for item in items if access.may_decide(who, item)]
