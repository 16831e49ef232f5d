from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from portal import health


def health_page(request: HttpRequest) -> HttpResponse:
    """Component status for people (HTML) and probes (?format=json); 503 when a configured one is down."""
    statuses = health.check_all()
    code = 200 if all(s.ok for s in statuses) else 503
    if request.GET.get("format") == "json":
        return JsonResponse({"ok": code == 200, "components": [s.as_dict() for s in statuses]}, status=code)
    return render(request, "portal/health.html", {"statuses": statuses}, status=code)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")
