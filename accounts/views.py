"""Web pages of identity: teams, their members and service accounts (with tokens), and group mappings."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import notifications, policy
from accounts.decorators import portal_page
from accounts.filtersets import GroupMappingFilterSet, TeamFilterSet
from accounts.forms import GroupMappingForm, ServiceAccountForm, TokenForm
from accounts.models import ApiToken, GroupMapping, Notification, ServiceAccount, Team
from accounts.services import mappings, service_accounts, tokens
from accounts.services.identity import members_of
from accounts.tables import (GroupMappingTable, MemberTable, NotificationTable, ServiceAccountPanel, TeamTable,
                             TokenTable)
from portal.web.pages import require, submit
from portal.web.panels import panels


@portal_page
def team_list(request: HttpRequest) -> HttpResponse:
    filterset = TeamFilterSet(request.GET, queryset=Team.objects.all(), request=request)
    return render(request, "accounts/team_list.html", {
        "filterset": filterset, "table": TeamTable(filterset.qs, request=request)})


@portal_page
def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _team_page(request, get_object_or_404(Team, slug=slug))


def _team_page(request: HttpRequest, team: Team, *, account_form: ServiceAccountForm | None = None,
               bound_token_form: tuple[ServiceAccount, TokenForm] | None = None) -> HttpResponse:
    """The team page; a POST that failed validation passes its bound form to show it with its errors."""
    can_manage = policy.can_manage_service_accounts(request.user, team)
    service_accounts_shown = []
    for account in team.service_accounts.all():
        if not policy.can_see_service_account(request.user, account):
            continue
        token_form = None
        if bound_token_form and bound_token_form[0] == account:
            token_form = bound_token_form[1]
        elif can_manage:
            token_form = TokenForm(account=account)
        tokens = TokenTable(account.tokens.all(), can_revoke=can_manage)
        service_accounts_shown.append(ServiceAccountPanel(account, tokens, token_form))
    return render(request, "accounts/team_detail.html", {
        "team": team,
        "ldap_groups": team.group_mappings.all(),
        "members": MemberTable(members_of(team)),
        "panels": panels("team-detail", request, team),
        "accounts": service_accounts_shown,
        "account_form": account_form or (ServiceAccountForm() if can_manage else None),
    })


@portal_page
@require_POST
def service_account_create(request: HttpRequest, slug: str) -> HttpResponse:
    team = get_object_or_404(Team, slug=slug)
    require(policy.can_manage_service_accounts(request.user, team))
    form = ServiceAccountForm(request.POST)
    if not form.is_valid():
        return _team_page(request, team, account_form=form)
    account = service_accounts.create(request.user, team=team, **form.cleaned_data)
    messages.success(request, f"Service account {account.name} created. Issue it a token to let it sign in.")
    return redirect(reverse("team-detail", args=[team.slug]) + f"#sa-{account.name}")


@portal_page
@require_POST
@never_cache
def token_issue(request: HttpRequest, slug: str, account: str) -> HttpResponse:
    """Issues a token and shows it in this response, once: it is not stored, nor put in a URL."""
    team = get_object_or_404(Team, slug=slug)
    service_account = get_object_or_404(ServiceAccount, team=team, name=account)
    require(policy.can_manage_service_accounts(request.user, team))
    form = TokenForm(request.POST, account=service_account)
    if not form.is_valid():
        return _team_page(request, team, bound_token_form=(service_account, form))
    issued = tokens.issue(request.user, service_account, name=form.cleaned_data["name"], expires_at=form.expires_at)
    return render(request, "accounts/token_issued.html", {"team": team, "issued": issued})


@portal_page
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, slug: str, prefix: str) -> HttpResponse:
    team = get_object_or_404(Team, slug=slug)
    token = get_object_or_404(ApiToken.objects.select_related("service_account"), prefix=prefix,
                              service_account__team=team)
    require(policy.can_manage_service_accounts(request.user, team))
    back = reverse("team-detail", args=[team.slug]) + f"#sa-{token.service_account.name}"
    if request.method == "POST":
        tokens.revoke(request.user, token)
        messages.success(request, f"Token {token.prefix}… of {token.service_account} revoked.")
        return redirect(back)
    return render(request, "portal/confirm.html", {
        "title": "Revoke token", "confirm_label": "Revoke token", "cancel_url": back,
        "question": f"Revoke token “{token.name}” ({token.prefix}…) of service account {token.service_account}?",
        "detail": "Programs using it are refused from now on. This cannot be undone; issue a new token instead."})


@portal_page
@require_http_methods(["GET", "POST"])
def mapping_list(request: HttpRequest) -> HttpResponse:
    """Which LDAP group gives which team and role; platform admins add mappings here (POST)."""
    require(policy.can_manage_catalogue(request.user))
    form = GroupMappingForm(request.POST or None)
    mapping = submit(form, lambda data: mappings.create(request.user, **data))
    if mapping is not None:
        messages.success(request, f"Mapping {mapping} added.")
        return redirect("mapping-list")
    filterset = GroupMappingFilterSet(request.GET, queryset=GroupMapping.objects.all(), request=request)
    return render(request, "accounts/mapping_list.html", {
        "form": form, "filterset": filterset, "table": GroupMappingTable(filterset.qs, request=request)})


@portal_page
@require_http_methods(["GET", "POST"])
def mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(policy.can_manage_catalogue(request.user))
    mapping = get_object_or_404(GroupMapping.objects.select_related("team"), pk=pk)
    if request.method == "POST":
        mappings.delete(request.user, mapping)
        messages.success(request, f"Mapping {mapping} deleted.")
        return redirect("mapping-list")
    return render(request, "portal/confirm.html", {
        "title": "Delete group mapping", "confirm_label": "Delete mapping", "cancel_url": reverse("mapping-list"),
        "question": f"Delete the mapping {mapping}?",
        "detail": "Members of the LDAP group lose this team membership or role at their next request."})


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/notification_list.html", {
        "table": NotificationTable(Notification.objects.filter(recipient=request.user), request=request),
        "unread": notifications.unread_count(request.user)})


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    count = notifications.mark_read(request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return redirect("notification-list")
