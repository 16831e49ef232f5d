"""Request checks that run before any view, and the error shape of the API.

`ApiErrorsAsJson`: everything under /api/ answers in JSON, errors too — a 404 from the URL resolver, a 413, a
500, Django's debug pages in development — so an API client never has to parse HTML. DRF's own responses
(which negotiate their format) pass as they are.

`ContentSecurityPolicy`: every response carries settings.LOGWARDEN_CONTENT_SECURITY_POLICY (Django 5.2 has no
setting of its own for it); a view that sets its own keeps it.

`LimitRequestBody`: a body longer than settings.DATA_UPLOAD_MAX_MEMORY_SIZE (LOGWARDEN_MAX_BODY_BYTES) is a
413 before anything reads it.

`RejectNulCharacters`: PostgreSQL text cannot hold NUL (U+0000); a NUL that reaches a query fails there with a
DataError, which the client would see as a 500. No legitimate input to Logwarden contains one, so a request
carrying NUL anywhere a view could read it — its path, query string, form fields, or body (a raw 0x00 byte, or
the JSON escape \\u0000 in a JSON body) — is refused with a 400 before it reaches a view, a form or the database.
A multipart body it cannot read (no boundary in its Content-Type) is a 400 too, not the parser's exception.

`DatabaseUnavailable`: a database connection lost mid-request (PostgreSQL restarted, a backend terminated: an
OperationalError or InterfaceError) is a 503 (JSON under /api/, a plain page elsewhere), never a 500. The
request's transaction was rolled back whole, so whatever was committed before stays, and the broken connection
is closed here so the rest of the request (a session save) and the next one connect afresh. The same answer
comes from the 500 handler (portal.web.views.server_error) when the loss surfaces in a middleware instead.
"""
from __future__ import annotations

import logging
import re
from http import HTTPStatus

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.template.loader import render_to_string
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError

log = logging.getLogger(__name__)

NUL = "\x00"
# \u0000 as an escape: preceded by an even number of backslashes (so not "\\u0000", an escaped backslash)
_JSON_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
MESSAGE = "The request contains a NUL character (U+0000), which no field accepts."
MALFORMED_MULTIPART = ("The multipart/form-data body cannot be read (its Content-Type needs a boundary that the "
                       "body uses).")


def _has_nul(values) -> bool:
    return any(NUL in key or any(NUL in value for value in items) for key, items in values.lists())


def contains_nul(request: HttpRequest) -> bool:
    if NUL in request.path or NUL in request.path_info or _has_nul(request.GET):
        return True
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        # decoded fields and uploaded file names; file contents are not text and may hold any byte
        return _has_nul(request.POST) or any(NUL in (f.name or "") for f in request.FILES.values())
    body = request.body
    if b"\x00" in body:
        return True
    if content_type == "application/x-www-form-urlencoded":  # %00 (request.POST only parses POST's body)
        return _has_nul(QueryDict(body, encoding=request.encoding))
    return "json" in content_type and _JSON_NUL_ESCAPE.search(body) is not None


class RejectNulCharacters:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refused = MESSAGE if contains_nul(request) else None
        except MultiPartParserError:  # Django's parser, reading the fields: it is the body that is bad
            refused = MALFORMED_MULTIPART
        if refused is not None:
            if is_api(request):
                return JsonResponse({"detail": refused}, status=400)
            return HttpResponseBadRequest(refused, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_detail(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status code without a standard phrase
        return "Error"


class ApiErrorsAsJson:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (is_api(request) and response.status_code >= 400 and not hasattr(response, "data")
                and not response.get("Content-Type", "").startswith("application/json")):
            return JsonResponse({"detail": error_detail(response.status_code)}, status=response.status_code)
        return response


def too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request body is larger than {limit} bytes."
    if is_api(request):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class LimitRequestBody:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads a malformed length as no body
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return too_large(request)
        return self.get_response(request)


class ContentSecurityPolicy:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.LOGWARDEN_CONTENT_SECURITY_POLICY
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        return response


DATABASE_UNAVAILABLE = ("The database connection was lost while answering. A change is saved whole or not at all: "
                        "check, then try again in a moment.")
RETRY_AFTER_SECONDS = 5


def database_unavailable(request: HttpRequest, exc: BaseException | None) -> HttpResponse | None:
    """The 503 for a lost database connection, or None for any other error."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return None
    log.warning("database unavailable during %s %s: %s", request.method, request.path_info, type(exc).__name__)
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
    if is_api(request):
        response = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
    else:  # rendered without the request: its context processors would query the database
        response = HttpResponse(render_to_string("503.html", {"message": DATABASE_UNAVAILABLE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailable:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return database_unavailable(request, exception)
