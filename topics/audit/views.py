"""Web pages of the audit trail (auditors and platform admins): the events, filtered and paginated, downloadable
as sealed CSV or JSON; and the trail's last verification with its checkpoints and the public key that signs them."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import portal_page
from portal.models import AuditEvent, AuditVerification
from portal.web.pages import require
from topics import policy
from topics.archive.store import checkpoint_store
from topics.audit import checkpoints, evidence, services
from topics.audit.filtersets import AuditEventFilterSet
from topics.audit.tables import AuditEventTable, CheckpointTable

RECENT_CHECKPOINTS = 50


@portal_page
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    require(policy.can_read_audit(request.user))
    filterset = AuditEventFilterSet(request.GET or None, queryset=AuditEvent.objects.all())
    return render(request, "topics/audit/event_list.html", {
        "filterset": filterset, "table": AuditEventTable(filterset.qs, request=request),
        "query": request.GET.urlencode()})


@portal_page
@require_GET
def event_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered events (newest first, at most services.EXPORT_ROWS) as a sealed CSV or JSON file."""
    require(policy.can_read_audit(request.user))
    filterset = AuditEventFilterSet(request.GET, queryset=AuditEvent.objects.all())
    if not filterset.is_valid():
        return HttpResponseBadRequest(f"Invalid filter: {filterset.errors.as_text()}")
    table = services.events_table(filterset.qs, filterset.form.cleaned_data)
    return evidence.download_page(table, fmt, "audit-trail")


@portal_page
@require_GET
def verification(request: HttpRequest) -> HttpResponse:
    """The last verification's findings, earlier ones, the newest checkpoints, and the signing key."""
    require(policy.can_read_audit(request.user))
    public_key = checkpoints.signing_key().public_key()
    store = checkpoint_store()
    return render(request, "topics/audit/verification.html", {
        "last": AuditVerification.objects.order_by("-started_at").first(),
        "history": AuditVerification.objects.order_by("-started_at")[1:11],
        "checkpoints": CheckpointTable(list(reversed(services.stored_checkpoints(store, newest=RECENT_CHECKPOINTS)))),
        "checkpoint_count": services.checkpoint_count(store),
        "fingerprint": checkpoints.fingerprint(public_key), "public_pem": checkpoints.public_pem(public_key),
        "retired": sorted(set(checkpoints.known_public_keys()) - {checkpoints.fingerprint(public_key)})})
