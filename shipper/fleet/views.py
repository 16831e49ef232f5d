"""Web pages of the shipper fleets: the list, a fleet (health, drift, settings, revisions), a revision (its diff
against the one before, apply, dry run, rollback). Every rule is shipper.policy's and every change a call of
shipper.fleet.services; these pages show their answers."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import portal_page
from portal.web.pages import require, show_errors, submit
from shipper import policy
from shipper.fleet import credentials, diff, services
from shipper.fleet.forms import FleetForm, FleetSettingsForm, RollbackForm, RotateCredentialForm
from shipper.fleet.models import Fleet, FleetRevision
from shipper.canary import services as canary_services
from shipper.fleet.tables import CanaryNodeTable, FleetRevisionTable, FleetTable
from shipper.kube.client import KubeError


def _fleet(request: HttpRequest, name: str) -> Fleet:
    return get_object_or_404(policy.fleets_visible_to(request.user).select_related("kafka_cluster", "live_revision"),
                             name=name)


def _managed_revision(request: HttpRequest, name: str, number: int) -> tuple[Fleet, FleetRevision]:
    """The fleet and its revision, for an admin's change (403 for others)."""
    require(policy.can_manage_fleets(request.user))
    fleet = _fleet(request, name)
    return fleet, get_object_or_404(fleet.revisions, number=number)


def _refusal(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", [str(exc)]))


@portal_page
@require_http_methods(["GET", "POST"])
def fleet_list(request: HttpRequest) -> HttpResponse:
    """The fleets (admins and auditors); admins create one here (POST)."""
    require(policy.can_view_fleets(request.user))
    can_manage = policy.can_manage_fleets(request.user)
    form = FleetForm() if can_manage else None
    if request.method == "POST":
        require(can_manage)
        form = FleetForm(request.POST)
        fleet = submit(form, lambda data: services.create_fleet(request.user, **data))
        if fleet is not None:
            messages.success(request, f"Fleet {fleet.name} created with its first revision: apply it to the cluster.")
            return redirect("fleet-detail", name=fleet.name)
    return render(request, "shipper/fleet_list.html", {
        "table": FleetTable(policy.fleets_visible_to(request.user), request=request), "form": form})


@portal_page
@require_http_methods(["GET", "POST"])
def fleet_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A fleet: its health and drift, its revisions, and (admins) its settings form, whose change makes a
    revision shown next as a diff."""
    fleet = _fleet(request, name)
    can_manage = policy.can_manage_fleets(request.user)
    form = FleetSettingsForm(fleet=fleet) if can_manage else None
    if request.method == "POST":
        require(can_manage)
        form = FleetSettingsForm(request.POST, fleet=fleet)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                revision = services.update_fleet(request.user, fleet, reason=data.pop("reason"), **data)
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                if revision is None:
                    messages.info(request, "Saved: what the fleet renders did not change, so no new revision.")
                    return redirect("fleet-detail", name=fleet.name)
                messages.success(request, f"Revision {revision.number} made: review its diff, then apply it.")
                return redirect("fleet-revision", name=fleet.name, number=revision.number)
    try:
        health, health_error = services.health(fleet), ""
    except (KubeError, services.FleetNotConfigured) as exc:
        health, health_error = None, _refusal(exc)
    return render(request, "shipper/fleet_detail.html", {
        "fleet": fleet, "form": form, "can_manage": can_manage, "health": health, "health_error": health_error,
        "revisions": FleetRevisionTable(fleet.revisions.all(), request=request),
        "canary": CanaryNodeTable(policy.canary_nodes_visible_to(request.user).filter(fleet=fleet)),
        "canary_topic": getattr(canary_services.canary_topic(fleet), "name", ""),
        "credentials": credentials.slots(fleet), "rotate_form": RotateCredentialForm() if can_manage else None})


@portal_page
def revision_detail(request: HttpRequest, name: str, number: int) -> HttpResponse:
    fleet = _fleet(request, name)
    revision = get_object_or_404(fleet.revisions, number=number)
    previous = fleet.revisions.filter(number__lt=number).order_by("-number").first()
    return render(request, "shipper/revision_detail.html", {
        "fleet": fleet, "revision": revision, "previous": previous, "diff": diff.unified(previous, revision),
        "can_manage": policy.can_manage_fleets(request.user), "rollback_form": RollbackForm()})


@portal_page
@require_POST
def revision_apply(request: HttpRequest, name: str, number: int) -> HttpResponse:
    """Applies a revision (admins), or with dry_run shows what applying it would change."""
    fleet, revision = _managed_revision(request, name, number)
    dry_run = request.POST.get("dry_run") == "1"
    try:
        result = services.apply(request.user, fleet, revision=revision, dry_run=dry_run)
    except (KubeError, services.FleetNotConfigured) as exc:
        messages.error(request, f"Not applied: {_refusal(exc)}")
        return redirect("fleet-revision", name=fleet.name, number=number)
    if dry_run:
        return render(request, "shipper/apply_result.html", {"fleet": fleet, "revision": revision, "result": result})
    if result.failed:
        messages.error(request, f"Revision {number} partly applied: {'; '.join(result.failed)}")
    elif result.outcomes:
        messages.success(request, f"Revision {number} applied: {', '.join(result.outcomes)}.")
    else:
        messages.info(request, f"Revision {number} is what the cluster has already: nothing to change.")
    return redirect("fleet-detail", name=fleet.name)


@portal_page
@require_POST
def revision_rollback(request: HttpRequest, name: str, number: int) -> HttpResponse:
    fleet, revision = _managed_revision(request, name, number)
    form = RollbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the fleet rolls back.")
        return redirect("fleet-revision", name=fleet.name, number=number)
    try:
        result = services.rollback(request.user, fleet, revision, reason=form.cleaned_data["reason"])
    except (KubeError, services.FleetNotConfigured, ValidationError) as exc:
        messages.error(request, f"Not rolled back: {_refusal(exc)}")
        return redirect("fleet-revision", name=fleet.name, number=number)
    messages.success(request, f"Rolled back to revision {number} as revision {result.revision.number}.")
    return redirect("fleet-detail", name=fleet.name)




@portal_page
@require_POST
def rotate_credential(request: HttpRequest, name: str) -> HttpResponse:
    """Starts a rotation of the shipper's Kafka credential (admins)."""
    require(policy.can_manage_fleets(request.user))
    fleet = _fleet(request, name)
    form = RotateCredentialForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not rotated: " + " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("fleet-detail", name=fleet.name)
    try:
        new = services.rotate_credential(request.user, fleet, overlap_hours=form.cleaned_data["overlap_hours"])
    except ValidationError as exc:
        messages.error(request, f"Not rotated: {_refusal(exc)}")
    else:
        messages.success(request, f"Rotation started: {new.username} is made at the next reconcile, then a revision "
                                  f"on its Secret rolls the pods; the current slot works for "
                                  f"{form.cleaned_data['overlap_hours']} h.")
    return redirect("fleet-detail", name=fleet.name)
