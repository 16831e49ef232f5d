"""Web pages of access: requests, the approval queue, grants and a principal's grants. Every rule and change
is topics.policy's and topics.access.services'; these pages collect input, call the service, and show its
answer."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import portal_page
from portal.web.pages import queue_forms, require, submit
from topics import policy
from topics.access import services as access
from topics.access.filtersets import AccessRequestFilterSet, GrantFilterSet
from topics.access.forms import AccessRequestForm, DecisionForm, EndGrantForm, sensitivity_policies
from topics.access.tables import AccessRequestTable, ApprovalTable, GrantTable, RequestItemTable
from topics.models import (AccessRequest, Approval, Decision, Grant, GrantState, KafkaPrincipal, RequestItem,
                           RequestState)

REQUEST_FILTERS = ("state", "namespace")
GRANT_FILTERS = ("namespace", "principal", "state", "source")


# --- requests -------------------------------------------------------------------------------------------

@portal_page
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    """The request form; ?namespace=<name> (repeatable) preselects namespaces."""
    policies = sensitivity_policies()
    form = AccessRequestForm(request.POST or None, requester=request.user, policies=policies,
                             initial={"namespaces": request.GET.getlist("namespace")})
    created = submit(form, lambda data: access.create_request(request.user, **data))
    if created is not None:
        messages.success(request, f"Request #{created.pk} sent: the owners of each namespace decide on it.")
        return redirect("access-request-detail", pk=created.pk)
    return render(request, "topics/access/request_form.html", {"form": form, "policies": policies.values()})


@portal_page
def request_list(request: HttpRequest) -> HttpResponse:
    """My requests: their state per namespace and the decisions so far."""
    filterset = AccessRequestFilterSet(request.GET, queryset=AccessRequest.objects.filter(requester=request.user),
                                       request=request)
    return render(request, "topics/access/request_list.html", {
        "filterset": filterset, "filter_fields": REQUEST_FILTERS,
        "table": AccessRequestTable(filterset.qs, request=request, user=request.user)})


@portal_page
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request and, of its namespaces, those the viewer may see (topics.policy.request_items_visible_to); a
    request they may not see is a 404, as one that does not exist."""
    visible = policy.requests_visible_to(request.user, AccessRequest.objects.select_related("principal", "requester"))
    access_request = get_object_or_404(visible, pk=pk)
    items = policy.request_items_visible_to(request.user, access_request.items.all())
    return render(request, "topics/access/request_detail.html", {
        "access_request": access_request,
        "items": RequestItemTable(items),
        "approvals": ApprovalTable(Approval.objects.filter(item__in=items)),
        "grants": GrantTable(Grant.objects.filter(request_item__in=items), user=request.user,
                             empty_message="No grants from this request (yet)."),
        "waiting": any(item.request_id == access_request.pk for item in policy.waiting_for(request.user)),
    })


@portal_page
@require_http_methods(["GET", "POST"])
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    access_request = get_object_or_404(policy.requests_visible_to(request.user), pk=pk)
    require(access_request.requester_id == request.user.pk)
    back = reverse("access-request-detail", args=[pk])
    if request.method == "POST":
        try:
            access.withdraw(request.user, access_request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Request #{pk} withdrawn.")
        return redirect(back)
    return render(request, "portal/confirm.html", {
        "title": "Withdraw request", "confirm_label": "Withdraw request", "cancel_url": back,
        "question": f"Withdraw request #{pk} for {access_request.principal}?",
        "detail": "Namespaces not decided yet are closed; access already granted stays until it ends."})


# --- approvals ------------------------------------------------------------------------------------------

@portal_page
def approval_queue(request: HttpRequest) -> HttpResponse:
    return _approval_page(request)


@portal_page
@require_POST
def approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """One decision on one item; a refused decider gets a 403 from the service."""
    item = get_object_or_404(policy.request_items_visible_to(
        request.user, RequestItem.objects.select_related("request__principal", "namespace")), pk=pk)
    form = DecisionForm(request.POST, item_id=item.pk)
    if submit(form, lambda data: access.decide(request.user, item, form.decision, data["comment"])):
        item.refresh_from_db()
        messages.success(request, f"{_decision_outcome(form.decision, item)}: request #{item.request_id} for "
                                  f"{item.request.principal} on {item.namespace}.")
        return redirect("access-approvals")
    return _approval_page(request, bound=form)


def _decision_outcome(decision: str, item: RequestItem) -> str:
    """What a decision did: an approval short of the required number leaves the item pending ("1 of 2")."""
    if decision != Decision.APPROVE:
        return "Rejected"
    if item.state == RequestState.PENDING:
        given = item.approvals.filter(decision=Decision.APPROVE).count()
        return f"Approval {given} of {item.approvals_required} recorded, the request stays pending"
    return "Approved"


def _approval_page(request: HttpRequest, *, bound: DecisionForm | None = None) -> HttpResponse:
    """The items waiting for me, each with its decision form; a failed decision brings its bound form back (or,
    when the item has left the queue meanwhile, its errors as messages)."""
    items = policy.waiting_for(request.user)
    prefetch_related_objects(items, Prefetch("approvals", queryset=Approval.objects.select_related("approver")))
    for item in items:
        item.deciders_left = policy.deciders_left(item)
    return render(request, "topics/access/approval_queue.html", {
        "entries": queue_forms(request, items, lambda pk: DecisionForm(item_id=pk), bound=bound)})


# --- grants ---------------------------------------------------------------------------------------------

@portal_page
def grant_list(request: HttpRequest) -> HttpResponse:
    filterset = GrantFilterSet(request.GET, queryset=policy.grants_visible_to(request.user), request=request)
    return render(request, "topics/access/grant_list.html", {
        "filterset": filterset, "filter_fields": GRANT_FILTERS,
        "table": GrantTable(filterset.qs, request=request, user=request.user)})


ENDINGS = {GrantState.REVOKED: ("Revoke", policy.may_revoke), GrantState.RELEASED: ("Release", policy.may_release)}


@portal_page
@require_http_methods(["GET", "POST"])
def grant_end(request: HttpRequest, pk: int, how: str) -> HttpResponse:
    """Revokes (owners, admins: a reason is required) or releases (the holder) one grant, after a confirmation."""
    grant = get_object_or_404(policy.grants_visible_to(request.user, Grant.objects.select_related(
        "principal", "topic__namespace", "topic__cluster", "request_item__request")), pk=pk)
    verb, allowed = ENDINGS[how]
    require(allowed(request.user, grant))
    form = EndGrantForm(request.POST or None, reason_required=how == GrantState.REVOKED)
    if submit(form, lambda data: access.end_grant(request.user, grant, how=how, reason=data["reason"])):
        messages.success(request, f"{verb}d: {grant.principal} on {grant.topic.namespace}. Its ACLs leave "
                                  f"the broker at the next reconcile, which starts now.")
        return redirect("access-grant-list")
    return render(request, "topics/access/grant_end.html", {"grant": grant, "verb": verb, "form": form})


@portal_page
def principal_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A principal the viewer may see (topics.policy.principals_visible_to, else a 404) and the grants of it they
    may see."""
    principal = get_object_or_404(policy.principals_visible_to(
        request.user, KafkaPrincipal.objects.select_related("user__service_account__team")), name=name)
    grants = policy.grants_visible_to(request.user, principal.grants.all())
    return render(request, "topics/access/principal_detail.html", {
        "principal": principal, "grants": GrantTable(grants, request=request, user=request.user,
                                                     empty_message="No grants of this principal that you can see.")})
