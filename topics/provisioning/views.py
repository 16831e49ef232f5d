"""Web pages of provisioning: my Kafka credentials (a new password shown once, rotations, client configuration
files) and the reconcile status.
Every rule and change is topics.policy's and the services' (topics.provisioning.credentials, topics.queue);
these pages call them and show their answer."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import portal_page
from portal.core import audit
from portal.web.pages import require, show_errors
from topics import policy, queue
from topics.models import CredentialState, KafkaCluster, KafkaCredential, ReconcileRun
from topics.provisioning import credentials, handoff
from topics.provisioning.forms import RotateForm
from topics.provisioning.principals import requestable_principals
from topics.provisioning.tables import ClusterStatus, CredentialTable, ReconcileRunTable, SystemCredentialTable

RECENT_RUNS = 20


# --- credentials ----------------------------------------------------------------------------------------

@portal_page
def credential_list(request: HttpRequest) -> HttpResponse:
    """The Kafka credentials of my principals (myself and my teams' service accounts); one not created yet (no
    request named it) has none."""
    return render(request, "topics/provisioning/credential_list.html", {
        "panels": [(principal, CredentialTable(
            principal.credentials.exclude(state=CredentialState.REMOVED) if principal.pk is not None
            else KafkaCredential.objects.none())) for principal in requestable_principals(request.user)],
        "config_files": credentials.CLIENT_REQUIREMENTS.items()})


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
        "client_files": [(name, text, credentials.CLIENT_REQUIREMENTS[name])
                         for name, text in credentials.client_config(credential, password=password).items()]})


@portal_page
@require_http_methods(["GET", "POST"])
def credential_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    """Starts a rotation of a credential I manage (admins: any, as a forced rotation), with the API's rules:
    the service checks who may, the overlap and the state, and audits it."""
    credential = get_object_or_404(policy.credentials_visible_to(request.user), pk=pk)
    form = RotateForm(request.POST or None, may_force=policy.may_force_rotation(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            new = credentials.rotate(request.user, credential.principal, credential.cluster, overlap=form.overlap,
                                     trigger="forced" if form.cleaned_data.get("force") else "holder")
        except ValidationError as exc:
            # the service names the overlap by its own name; the form calls it overlap_hours
            if hasattr(exc, "error_dict") and "overlap" in exc.error_dict:
                exc.error_dict["overlap_hours"] = exc.error_dict.pop("overlap")
            show_errors(form, exc)
        else:
            messages.success(request, f"Rotation started: {new.username} is made on the broker at the next "
                                      f"reconcile, then its password is shown here once; {credential.username} "
                                      f"keeps working for {form.cleaned_data['overlap_hours']} hours.")
            return redirect("access-credentials")
    return render(request, "topics/provisioning/credential_rotate.html", {"credential": credential, "form": form})


@portal_page
@require_GET
def credential_client_config(request: HttpRequest, pk: int, file_name: str) -> HttpResponse:
    """One client configuration file of a credential I manage, without the password (as the API's
    client-config): a placeholder, or the KAFKA_PASSWORD environment variable."""
    credential = get_object_or_404(policy.credentials_visible_to(request.user), pk=pk)
    files = credentials.client_config(credential)
    if file_name not in files:
        raise Http404(f"No client configuration file {file_name!r}.")
    response = HttpResponse(files[file_name], content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{credential.username}-{file_name}"'
    return response


# --- reconcile ------------------------------------------------------------------------------------------

@portal_page
def reconcile_status(request: HttpRequest) -> HttpResponse:
    """Per cluster the last run and the last drift found, the system principals' credentials, then the latest
    runs: admins and auditors."""
    require(policy.can_read_audit(request.user))
    return render(request, "topics/provisioning/reconcile.html", {
        "clusters": [ClusterStatus.of(cluster) for cluster in KafkaCluster.objects.all()],
        "runs": ReconcileRunTable(ReconcileRun.objects.all()[:RECENT_RUNS]),
        "system_credentials": SystemCredentialTable(
            policy.system_credentials_visible_to(request.user).exclude(state=CredentialState.REMOVED)),
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
