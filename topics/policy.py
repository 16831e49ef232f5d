"""Who may do what with namespaces, requests, grants and credentials: the topics app's one policy module.

Views, API permissions and serializers, filtersets, tables, tasks and services of topics ask these
functions (the `*_visible_to` ones return the rows someone may list); none re-implements a rule. Rules
about a person alone (may they use the portal, manage the catalogue, read the audit trail) come from
accounts.policy and are offered here too, so topics code asks one module. Nothing here writes.
"""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts import policy as accounts_policy
from accounts.models import Role, ServiceAccount
from accounts.services.identity import identity_of, members_of, prime_identities
from topics.models import (AccessRequest, Approval, BreakGlassUse, CampaignState, Grant, GrantState, KafkaCredential,
                           KafkaPrincipal, Lifecycle, Namespace, ReadFrom, RequestItem, RequestState, ReviewCampaign,
                           ReviewItem, SensitivityPolicy)
from topics.reviews.rules import reviewers

can_browse_catalogue = accounts_policy.can_browse_catalogue
can_manage_catalogue = accounts_policy.can_manage_catalogue
can_read_audit = accounts_policy.can_read_audit


def is_namespace_owner(who, owner_team_id: int | None) -> bool:
    identity = identity_of(who)
    return identity.has_role(Role.NAMESPACE_OWNER) and identity.in_team(owner_team_id)


def sees_everything(who) -> bool:
    """Auditors and admins see every request, grant and reconcile run."""
    return can_read_audit(who)


def reviews_namespace(who, namespace: Namespace) -> bool:
    """Sees every grant on the namespace: its owners, auditors and admins."""
    return sees_everything(who) or is_namespace_owner(who, namespace.owner_team_id)


# --- requests and decisions -------------------------------------------------------------------------------

def requestable_users(who) -> list:
    """Whose access `who` may request: themself, and (for people) the active service accounts of their teams."""
    identity = identity_of(who)
    if identity.service_account is not None:
        return [who]
    accounts = ServiceAccount.objects.filter(team_id__in=identity.team_ids, is_active=True).select_related("user")
    return [who] + [account.user for account in accounts]


def _decides_for(who, namespace: Namespace, *, requester_id: int, principal: KafkaPrincipal,
                 principal_account: ServiceAccount | None) -> bool:
    """Whether `who` may decide a request by `requester_id` for `principal` (whose service account, if it is one,
    is `principal_account`) on the namespace: its owners, never the requester nor anyone who can act as the
    principal (may_act_as: its person; for a service account whoever may issue its tokens or display its
    credentials), so two distinct people are always involved. A namespace nobody owns (or whose suggested owner an
    admin has not confirmed) has no deciders."""
    if who.pk == requester_id or _acts_as(who, principal, principal_account):
        return False
    return namespace.owner_team_id is not None and is_namespace_owner(who, namespace.owner_team_id)


def decides_by_role(who, item: RequestItem) -> bool:
    """Who decides an item, whatever its namespace's lifecycle (_decides_for)."""
    principal = item.request.principal
    return _decides_for(who, item.namespace, requester_id=item.request.requester_id, principal=principal,
                        principal_account=_service_account_of(principal))


def possible_deciders(namespace: Namespace, *, requester, principal: KafkaPrincipal) -> list:
    """Everyone who could decide a request by `requester` for `principal` on the namespace (its owning team's
    people with the owner role, less the requester and those who can act as the principal), by username. A
    bounded number of queries however many people the team has: their identities are worked out together."""
    if namespace.owner_team_id is None:
        return []
    members = list(members_of(namespace.owner_team))
    prime_identities(members)
    account = _service_account_of(principal)
    return [person for person in members
            if _decides_for(person, namespace, requester_id=requester.pk, principal=principal,
                            principal_account=account)]


def deciders_left(item: RequestItem) -> list:
    """Who may still decide a pending item: its possible deciders who have not decided it yet."""
    if item.state != RequestState.PENDING or item.namespace.lifecycle == Lifecycle.RETIRED:
        return []
    decided = {approval.approver_id for approval in item.approvals.all()}
    return [person for person in possible_deciders(item.namespace, requester=item.request.requester,
                                                   principal=item.request.principal)
            if person.pk not in decided]


def may_decide(who, item: RequestItem) -> bool:
    return item.namespace.lifecycle != Lifecycle.RETIRED and decides_by_role(who, item)


def _owned_namespaces(who) -> Q:
    """Namespaces whose owners `who` is among (the queryset form of is_namespace_owner)."""
    identity = identity_of(who)
    if not identity.has_role(Role.NAMESPACE_OWNER):
        return Q(pk__in=[])
    return Q(owner_team_id__in=identity.team_ids)


def requests_visible_to(who, queryset: QuerySet[AccessRequest] | None = None) -> QuerySet[AccessRequest]:
    """The requester's own requests, those on namespaces they decide on, and all for auditors and admins."""
    queryset = AccessRequest.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    decided_here = RequestItem.objects.filter(namespace__in=Namespace.objects.filter(_owned_namespaces(who)))
    return queryset.filter(Q(requester=who) | Q(pk__in=decided_here.values("request_id")))


def request_items_visible_to(who, queryset: QuerySet[RequestItem] | None = None) -> QuerySet[RequestItem]:
    """The items of one's own requests, the items on namespaces one owns, and all for auditors and admins: an
    owner deciding one namespace of a request does not see what it asks of other teams."""
    queryset = RequestItem.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    owned = Namespace.objects.filter(_owned_namespaces(who))
    return queryset.filter(Q(request__requester=who) | Q(namespace__in=owned))


def waiting_for(who) -> list[RequestItem]:
    """Pending items `who` may decide (may_decide) and has not decided yet, oldest first."""
    identity = identity_of(who)
    if not identity.has_role(Role.NAMESPACE_OWNER) or not identity.team_ids:
        return []
    # narrows to the namespaces `who` could own; may_decide has the last word
    items = (RequestItem.objects.filter(namespace__owner_team_id__in=identity.team_ids, state=RequestState.PENDING)
             .exclude(pk__in=Approval.objects.filter(approver=who).values("item_id"))
             .select_related("request__principal", "request__requester", "namespace__owner_team")
             .order_by("request__created_at", "namespace__name"))
    return [item for item in items if may_decide(who, item)]


# --- grants -----------------------------------------------------------------------------------------------

def may_grant_directly(who) -> bool:
    return identity_of(who).is_admin


def may_revoke(who, grant: Grant) -> bool:
    identity = identity_of(who)
    return identity.is_admin or is_namespace_owner(who, grant.topic.namespace.owner_team_id)


def may_release(who, grant: Grant) -> bool:
    return grant.principal.user_id == who.pk or (
        grant.request_item is not None and grant.request_item.request.requester_id == who.pk)


def grants_visible_to(who, queryset: QuerySet[Grant] | None = None) -> QuerySet[Grant]:
    """Grants of the principals one acts for (oneself, one's teams' service accounts), grants on the namespaces
    one owns, and all for auditors and admins."""
    queryset = Grant.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    own = KafkaPrincipal.objects.filter(user__in=[user.pk for user in requestable_users(who)])
    owned = Namespace.objects.filter(_owned_namespaces(who))
    return queryset.filter(Q(principal__in=own) | Q(topic__namespace__in=owned))


# --- principals and credentials ---------------------------------------------------------------------------

def principals_visible_to(who, queryset: QuerySet[KafkaPrincipal] | None = None) -> QuerySet[KafkaPrincipal]:
    """The principals one acts for (requestable_users), those of the grants and requests one may see, and all for
    auditors and admins; any other principal (and so who owns it) is a 404."""
    queryset = KafkaPrincipal.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    return queryset.filter(Q(user__in=[user.pk for user in requestable_users(who)])
                           | Q(pk__in=grants_visible_to(who).values("principal_id"))
                           | Q(pk__in=requests_visible_to(who).values("principal_id")))


def may_act_as(who, principal: KafkaPrincipal) -> bool:
    """Whether `who` could act as the principal: it is theirs, or it is a service account whose tokens they
    may issue (accounts.policy.can_manage_service_accounts: its team's people and platform admins). Nobody acts
    as a system principal (Logwarden's own components): nobody requests for it, decides for it or sees its password."""
    return _acts_as(who, principal, _service_account_of(principal))


def _acts_as(who, principal: KafkaPrincipal, principal_account: ServiceAccount | None) -> bool:
    """may_act_as, given the principal's service account (None for a person's principal)."""
    if principal.is_system:
        return False
    if principal.user_id == who.pk:
        return True
    return principal_account is not None and accounts_policy.can_manage_service_accounts(who,
                                                                                         principal_account.team_id)


def _service_account_of(principal: KafkaPrincipal) -> ServiceAccount | None:
    return ServiceAccount.objects.filter(user_id=principal.user_id).first()


def may_manage_credentials(who, principal: KafkaPrincipal) -> bool:
    """Rotate, read client configuration (without the password): the holder, the people of a service
    account's team, and platform admins; nobody for a system principal (it rotates only by the system). The
    password itself: may_see_password."""
    return not principal.is_system and (may_act_as(who, principal) or identity_of(who).is_admin)


def may_see_password(who, principal: KafkaPrincipal) -> bool:
    """A one-time password is shown only to those who can act as the principal: an admin may force a rotation of
    someone else's credential, never read its password and so take over that identity."""
    return may_act_as(who, principal)


def may_force_rotation(who) -> bool:
    return identity_of(who).is_admin


def credentials_visible_to(who) -> QuerySet[KafkaCredential]:
    """The credentials of every principal `who` may manage (the rule of may_manage_credentials, as one query)."""
    credentials = KafkaCredential.objects.select_related("principal", "cluster").filter(principal__user__isnull=False)
    identity = identity_of(who)
    if identity.is_admin:
        return credentials
    mine = Q(principal__user=who)
    if identity.service_account is None:  # people also manage their teams' service accounts
        mine |= Q(principal__user__service_account__team_id__in=identity.team_ids)
    return credentials.filter(mine)


def may_be_granted(principal: KafkaPrincipal, namespace: Namespace | None = None) -> bool:
    """Grants and requests are for people and service accounts; a system principal's access is its role's. A
    quarantine topic may hold any namespace's records: only platform admins' and auditors' own principals."""
    if principal.is_system:
        return False
    if namespace is not None and namespace.quarantine:
        return principal.user is not None and can_read_audit(principal.user)
    return True


def why_not_granted(principal: KafkaPrincipal, namespace: Namespace) -> str:
    """The refusal may_be_granted means, for a form or API error ('' when it may be granted)."""
    if may_be_granted(principal, namespace):
        return ""
    if principal.is_system:
        return f"{principal.name} is a system principal: its access comes from its role, never from a grant."
    return (f"{namespace.name} is a shipper's quarantine (records of any namespace without a topic): only "
            f"platform admins and auditors may be granted it, not {principal.name}.")


def system_credentials_visible_to(who) -> QuerySet[KafkaCredential]:
    """The credentials of Logwarden's own principals, with their state (never a password): auditors and admins."""
    if not sees_everything(who):
        return KafkaCredential.objects.none()
    return KafkaCredential.objects.filter(principal__user__isnull=True).select_related("principal", "cluster")


# --- reading logs -----------------------------------------------------------------------------------------

def namespaces_visible_to(who, queryset: QuerySet[Namespace] | None = None) -> QuerySet[Namespace]:
    """Everyone who may browse the catalogue sees every namespace (what may be asked for); others none."""
    queryset = Namespace.objects.all() if queryset is None else queryset
    return queryset if can_browse_catalogue(who) else queryset.none()


def live_read_grants(who, namespace: Namespace | None = None, now: datetime | None = None) -> QuerySet[Grant]:
    """The caller's own running grants (on the namespace's topics, when given), as the broker's ACLs see them:
    active, started, not ended, through a person's own principal or a service account's (calling with its
    token); its account enabled, its namespace not retired. Being an owner, an auditor or an admin reads nothing
    by itself, nor may a person read on their team's service account's grant."""
    if not getattr(who, "is_active", False) or not can_browse_catalogue(who):
        return Grant.objects.none()
    now = now or timezone.now()
    grants = (Grant.objects.filter(principal__user=who, state=GrantState.ACTIVE, valid_from__lte=now,
                                   valid_until__gt=now)
              .exclude(topic__namespace__lifecycle=Lifecycle.RETIRED))
    if namespace is not None:
        grants = grants.filter(topic__namespace=namespace)
    return grants.select_related("topic__cluster").order_by("-topic__cluster__is_default", "valid_from")


def readable_namespaces(who) -> QuerySet[Namespace]:
    """Namespaces whose logs, live and archived, `who` may read (live_read_grants)."""
    return Namespace.objects.filter(pk__in=live_read_grants(who).order_by().values("topic__namespace_id"))


def may_read_namespace(who, namespace: Namespace) -> bool:
    return live_read_grants(who, namespace).exists()


def logs_readable_since(namespace: Namespace, grants: list[Grant]) -> datetime | None:
    """The earliest record time the grants let their holder read (the sensitivity policy's `read_from`): None
    for the topic's start, else the start of the earliest of the running grants."""
    if SensitivityPolicy.for_level(namespace.sensitivity).read_from == ReadFrom.TOPIC_START or not grants:
        return None
    return min(grant.valid_from for grant in grants)


def namespace_readable_by(who, name: str) -> Namespace:
    """The namespace `name` for a page or API call that reads it: Http404 when it does not exist for `who`,
    PermissionDenied (403) when `who` holds no live grant on it."""
    namespace = namespaces_visible_to(who).filter(name=name).first()
    if namespace is None:
        raise Http404("No such namespace.")
    if not may_read_namespace(who, namespace):
        raise PermissionDenied("You hold no live grant on this namespace.")
    return namespace


# --- access reviews -----------------------------------------------------------------------------------------

def may_run_reviews(who) -> bool:
    """Start access-review campaigns and follow their progress: auditors (and platform admins)."""
    identity = identity_of(who)
    return identity.service_account is None and can_read_audit(identity)


def campaigns_visible_to(who, queryset: QuerySet[ReviewCampaign] | None = None) -> QuerySet[ReviewCampaign]:
    """Campaigns as a whole, for those who run them; reviewers see their own items (review_items_visible_to)."""
    queryset = ReviewCampaign.objects.all() if queryset is None else queryset
    return queryset if may_run_reviews(who) else queryset.none()


def is_fallback_reviewer(who) -> bool:
    """Named in LOGWARDEN_REVIEW_FALLBACK_REVIEWERS (a person, never a program)."""
    identity = identity_of(who)
    return (identity.authenticated and identity.service_account is None
            and who.get_username() in settings.LOGWARDEN_REVIEW_FALLBACK_REVIEWERS)


def namespace_owners(namespace: Namespace) -> list:
    """The people with the owner role in the namespace's owning team (none while no owner is confirmed)."""
    if namespace.owner_team_id is None:
        return []
    people = list(members_of(namespace.owner_team))
    prime_identities(people)
    return [person for person in people if is_namespace_owner(person, namespace.owner_team_id)]


def reviewers_of_grants(grants) -> dict[int, tuple[list, bool]]:
    """By grant id, who may review each grant (topics.reviews.rules.reviewers) and whether they are the fallback
    reviewers: the owners of its namespace, less anyone who can act as its principal (the approvals' rule: its
    person; for a service account whoever may issue its tokens), else the fallback reviewers, less the same. A
    bounded number of queries per namespace, however many grants: owners and service accounts are read once."""
    fallback = fallback_reviewers()
    owners: dict[int, list] = {}
    accounts = {account.user_id: account for account in ServiceAccount.objects.filter(
        user_id__in={grant.principal.user_id for grant in grants})}
    found = {}
    for grant in grants:
        namespace = grant.topic.namespace
        if namespace.pk not in owners:
            owners[namespace.pk] = namespace_owners(namespace)
        account = accounts.get(grant.principal.user_id)
        found[grant.pk] = reviewers(owners[namespace.pk], fallback,
                                    excluded=lambda person, grant=grant, account=account:
                                    _acts_as(person, grant.principal, account))
    return found


def fallback_reviewers() -> list:
    """The active people LOGWARDEN_REVIEW_FALLBACK_REVIEWERS names."""
    people = list(get_user_model().objects.filter(username__in=settings.LOGWARDEN_REVIEW_FALLBACK_REVIEWERS,
                                                  is_active=True, service_account__isnull=True))
    prime_identities(people)
    return people


def may_review(who, item: ReviewItem) -> bool:
    """Whether `who` may decide the item: it is pending in an open campaign, `who` is an owner of the grant's
    namespace (or, for an item of the fallback reviewers, one of them), and `who` cannot act as the grant's
    principal: nobody reviews their own access."""
    if not item.pending or item.campaign.state != CampaignState.OPEN:
        return False
    grant = item.grant
    if _acts_as(who, grant.principal, _service_account_of(grant.principal)):
        return False
    if item.by_fallback:
        return is_fallback_reviewer(who)
    return is_namespace_owner(who, grant.topic.namespace.owner_team_id)


def _reviewed_here(who) -> Q:
    """Items of grants on the namespaces `who` owns and, for fallback reviewers, the fallback items."""
    mine = Q(grant__topic__namespace__in=Namespace.objects.filter(_owned_namespaces(who)))
    if is_fallback_reviewer(who):
        mine |= Q(by_fallback=True)
    return mine


def review_items_visible_to(who, queryset: QuerySet[ReviewItem] | None = None) -> QuerySet[ReviewItem]:
    """Every item for auditors and admins; for others, the items they review or could (_reviewed_here)."""
    queryset = ReviewItem.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    return queryset.filter(_reviewed_here(who))


def review_queue(who) -> list[ReviewItem]:
    """The pending items of open campaigns before their deadline that `who` may review (may_review), soonest
    deadline first."""
    candidates = (ReviewItem.objects.filter(_reviewed_here(who), decision="", campaign__state=CampaignState.OPEN,
                                            campaign__deadline__gt=timezone.now())
                  .select_related("campaign", "grant__principal", "grant__topic__namespace__owner_team",
                                  "grant__topic__cluster")
                  .order_by("campaign__deadline", "grant__topic__namespace__name", "pk"))
    return [item for item in candidates if may_review(who, item)]


# --- break-glass --------------------------------------------------------------------------------------------

def may_break_glass(who) -> bool:
    """The break-glass role (an LDAP group mapped to it); people only, never a program."""
    identity = identity_of(who)
    return identity.service_account is None and identity.has_role(Role.BREAK_GLASS)


def break_glass_visible_to(who, queryset: QuerySet[BreakGlassUse] | None = None) -> QuerySet[BreakGlassUse]:
    """Every use for auditors and admins; one's own uses; uses on the namespaces one owns."""
    queryset = BreakGlassUse.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    return queryset.filter(Q(user=who) | Q(namespace__in=Namespace.objects.filter(_owned_namespaces(who))))


def may_review_break_glass(who, use: BreakGlassUse) -> bool:
    """Closes the finding: auditors, admins and the namespace's owners, never the responder themself."""
    if who.pk == use.user_id or not use.open_finding or identity_of(who).service_account is not None:
        return False
    return sees_everything(who) or is_namespace_owner(who, use.namespace.owner_team_id)
# --- history and reports ----------------------------------------------------------------------------------

def may_see_history(who) -> bool:
    """The point-in-time answers and the reports: auditors and admins, and namespace owners for their own
    namespaces."""
    return sees_everything(who) or identity_of(who).has_role(Role.NAMESPACE_OWNER)


def history_namespaces_visible_to(who, queryset: QuerySet[Namespace] | None = None) -> QuerySet[Namespace]:
    """Namespaces whose history and reports `who` may see: all for auditors and admins, their own for owners."""
    queryset = Namespace.objects.all() if queryset is None else queryset
    if sees_everything(who):
        return queryset
    return queryset.filter(_owned_namespaces(who))


def history_principal_visible_to(who, name: str) -> KafkaPrincipal | None:
    """The principal `name` for "what could P read": any for auditors and admins; for an owner, one that ever
    held a grant on a namespace of theirs (the answer then shows only those namespaces)."""
    principals = KafkaPrincipal.objects.filter(name=name)
    if not sees_everything(who):
        principals = principals.filter(grants__topic__namespace__in=history_namespaces_visible_to(who))
    return principals.first()


def may_see_drift(who) -> bool:
    """Drift is found per cluster, across every team's namespaces: auditors and admins only."""
    return sees_everything(who)
