import sys

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from portal.core import health
from portal.core.middleware import database_unavailable
from portal.core.throttles import RateLimit

ANONYMOUS_STATUSES = "logwarden:health:anonymous"


def health_page(request: HttpRequest) -> HttpResponse:
    """Component status for people (HTML) and probes (?format=json); 503 when a configured one is down.
    Probes are anonymous: they get the states, checked at most once per LOGWARDEN_HEALTH_CACHE_SECONDS (a probe
    flood opens no broker or cluster connections) and at most at the `health` rate per address; the details
    (addresses, errors) are for signed-in people, who get a fresh check."""
    if request.user.is_authenticated:
        statuses = health.check_all()
    else:
        limit = RateLimit("health")
        if not limit.allow_request(request, None):
            return HttpResponse(f"Too many requests: retry in {int(limit.wait() or 1)} s.", status=429,
                                content_type="text/plain; charset=utf-8")
        statuses = cache.get(ANONYMOUS_STATUSES)
        if statuses is None:
            statuses = [health.ComponentStatus(s.component, s.state, "sign in for details")
                        for s in health.check_all()]
            cache.set(ANONYMOUS_STATUSES, statuses, settings.LOGWARDEN_HEALTH_CACHE_SECONDS)
    code = 200 if all(s.ok for s in statuses) else 503
    if request.GET.get("format") == "json":
        return JsonResponse({"ok": code == 200, "components": [s.as_dict() for s in statuses]}, status=code)
    return render(request, "portal/health.html", {"statuses": statuses}, status=code)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page (handler500), except for a database connection lost in a middleware: the 503 that
    DatabaseUnavailable gives when a view loses it. Django calls this inside its `except`."""
    return database_unavailable(request, sys.exc_info()[1]) or defaults.server_error(request)
