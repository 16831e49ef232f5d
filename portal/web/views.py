from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from portal.core import health


def health_page(request: HttpRequest) -> HttpResponse:
    """Component status for people (HTML) and probes (?format=json); 503 when a configured one is down.
    Probes are anonymous: they get the states; the details (addresses, errors) are for signed-in people."""
    statuses = health.check_all()
    if not request.user.is_authenticated:
        statuses = [health.ComponentStatus(s.component, s.state, "sign in for details") for s in statuses]
    code = 200 if all(s.ok for s in statuses) else 503
    if request.GET.get("format") == "json":
        return JsonResponse({"ok": code == 200, "components": [s.as_dict() for s in statuses]}, status=code)
    return render(request, "portal/health.html", {"statuses": statuses}, status=code)
