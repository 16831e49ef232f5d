"""Web pages of provisioning: my Kafka credentials (and a new password, shown once) and the reconcile status.
Every rule and change is topics.policy's and the services' (topics.provisioning.credentials, topics.queue);
these pages call them and show their answer."""
from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.decorators import portal_page
from portal.core import audit
from portal.web.pages import require
from topics import policy, queue
from topics.models import CredentialState, KafkaCluster, KafkaCredential, ReconcileRun
from topics.provisioning import credentials, handoff
from topics.provisioning.principals import requestable_principals
from topics.provisioning.tables import ClusterStatus, CredentialTable, ReconcileRunTable

RECENT_RUNS = 20


# --- credentials ----------------------------------------------------------------------------------------

@portal_page
def credential_list(request: HttpRequest) -> HttpResponse:
    """The Kafka credentials of my principals (myself and my teams' service accounts); one not created yet (no
    request named it) has none."""
    return render(request, "topics/provisioning/credential_list.html", {
        "panels": [(principal, CredentialTable(
            principal.credentials.exclude(state=CredentialState.REMOVED) if principal.pk is not None
            else KafkaCredential.objects.none())) for principal in requestable_principals(request.user)]})


@portal_page
@require_POST
@never_cache
def credential_password(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows a new password in this response, once (the service refuses others with a 403, and audits it); the
    password is never put in a URL or a log, and the response is not cached."""
    credential = get_object_or_404(KafkaCredential.objects.select_related("principal", "cluster"), pk=pk)
    try:
        password = credentials.show_password(request.user, credential)
    except handoff.HandoffUnavailable as exc:
        messages.error(request, f"The password cannot be shown: {exc}.")
        return redirect("access-credentials")
    return render(request, "topics/provisioning/credential_password.html", {
        "credential": credential, "password": password,
        "client_config": credentials.client_config(credential, password=password)})


# --- reconcile ------------------------------------------------------------------------------------------

@portal_page
def reconcile_status(request: HttpRequest) -> HttpResponse:
    """Per cluster the last run and the last drift found, then the latest runs: admins and auditors."""
    require(policy.can_read_audit(request.user))
    return render(request, "topics/provisioning/reconcile.html", {
        "clusters": [ClusterStatus.of(cluster) for cluster in KafkaCluster.objects.all()],
        "runs": ReconcileRunTable(ReconcileRun.objects.all()[:RECENT_RUNS]),
        "can_run": policy.can_manage_catalogue(request.user)})


@portal_page
@require_POST
def reconcile_run(request: HttpRequest, cluster: str) -> HttpResponse:
    """Queues a reconcile of one cluster (admins); who asked is audited, what it changes is audited by the run."""
    require(policy.can_manage_catalogue(request.user))
    cluster = get_object_or_404(KafkaCluster, name=cluster)
    with transaction.atomic():
        audit.record(request.user, "reconcile.request", cluster, trigger="manual")
        queue.reconcile([cluster.pk], trigger="manual")
    messages.success(request, f"Reconcile of {cluster} queued.")
    return redirect("access-reconcile")
