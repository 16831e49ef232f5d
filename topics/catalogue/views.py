"""Web pages of the catalogue: the home page, the namespace browser and a namespace's page."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import portal_page
from accounts.models import Role, Team
from accounts.services.identity import identity_of
from portal.web.pages import require, submit
from portal.web.panels import panels
from topics import policy
from topics.catalogue import services as catalogue
from topics.catalogue.filtersets import NamespaceFilterSet
from topics.catalogue.forms import NamespaceEditForm, NamespaceForm
from topics.catalogue.tables import NamespaceTable, TopicTable
from topics.broker_state import with_broker_state
from topics.models import Grant, GrantState, Namespace

# the API's NamespaceFilterSet also filters by name (the search box covers it) and by discovered
BROWSER_FILTERS = ("q", "owner_team", "sensitivity", "lifecycle", "retention_class")


def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: my live access and when it ends, what waits on my decision, what is not on the broker
    yet; my teams and their namespaces."""
    if not request.user.is_authenticated:
        return render(request, "topics/home.html")
    identity = identity_of(request.user)
    teams = Team.objects.filter(pk__in=identity.team_ids)
    grants = list(_current_grants(request.user))
    return render(request, "topics/home.html", {
        "roles": sorted(Role(role).label for role in identity.roles), "teams": teams,
        "namespaces": NamespaceTable(Namespace.objects.filter(owner_team__in=teams),
                                     empty_message="Your teams own no namespace yet."),
        "grants": grants, "on_broker": [grant for grant in grants if grant.on_broker],
        "pending_on_broker": [grant for grant in grants if not grant.on_broker],
        "waiting": policy.waiting_for(request.user),
    })


def _current_grants(user) -> QuerySet[Grant]:
    """The running grants of the principals I act for (policy.requestable_users), soonest ending first, each with
    `on_broker` (topics.broker_state): its credential and its ACLs are on the broker. A grant without them is a
    change still pending on the broker."""
    now = timezone.now()
    mine = [person.pk for person in policy.requestable_users(user)]
    return (with_broker_state(Grant.objects.filter(principal__user__in=mine, state=GrantState.ACTIVE,
                                                   valid_from__lte=now, valid_until__gt=now))
            .select_related("principal", "topic__namespace", "topic__cluster")
            .order_by("valid_until", "topic__name"))


@portal_page
@require_http_methods(["GET", "POST"])
def namespace_list(request: HttpRequest) -> HttpResponse:
    """The namespace browser; admins register namespaces here (POST)."""
    can_manage = policy.can_manage_catalogue(request.user)
    form = None
    if request.method == "POST":
        require(can_manage)
        form = NamespaceForm(request.POST)
        namespace = submit(form, lambda data: catalogue.register_namespace(request.user, **data))
        if namespace is not None:
            messages.success(request, f"Namespace {namespace.name} registered.")
            return redirect("namespace-detail", name=namespace.name)
    elif can_manage:
        form = NamespaceForm()
    filterset = NamespaceFilterSet(request.GET, queryset=Namespace.objects.all(), request=request)
    return render(request, "topics/namespace_list.html", {
        "filterset": filterset, "filter_fields": BROWSER_FILTERS, "form": form,
        "table": NamespaceTable(filterset.qs, request=request)})


@portal_page
@require_http_methods(["GET", "POST"])
def namespace_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A namespace: owner, sensitivity, retention, labels, topics; admins edit it here (POST)."""
    namespace = get_object_or_404(Namespace.objects.select_related("owner_team", "suggested_owner_team",
                                                                   "retention_class"), name=name)
    can_manage = policy.can_manage_catalogue(request.user)
    form = None
    if request.method == "POST":
        require(can_manage)
        form = NamespaceEditForm(request.POST, namespace=namespace)
        if submit(form, lambda data: catalogue.update_namespace(request.user, namespace, **data)):
            messages.success(request, f"Namespace {namespace.name} saved.")
            return redirect("namespace-detail", name=namespace.name)
    elif can_manage:
        form = NamespaceEditForm(namespace=namespace)
    return render(request, "topics/namespace_detail.html", {
        "namespace": namespace, "topics": TopicTable(namespace.topics.all()), "form": form, "can_manage": can_manage,
        "panels": panels("namespace-detail", request, namespace)})


@portal_page
@require_POST
def namespace_confirm_owner(request: HttpRequest, name: str) -> HttpResponse:
    """A platform admin confirms the owner team a Kubernetes label suggested (the service refuses others)."""
    require(policy.can_manage_catalogue(request.user))
    namespace = get_object_or_404(Namespace, name=name)
    try:
        namespace = catalogue.confirm_owner(request.user, namespace)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{namespace.owner_team} now owns {namespace.name}: its owners decide requests.")
    return redirect("namespace-detail", name=name)
