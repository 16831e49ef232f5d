"""Web pages of the archive: the namespaces one may read, a namespace's archived days, a day's files, and the
download of one file (streamed, audited). Who may: topics.policy (a live grant on the namespace)."""
from __future__ import annotations

from datetime import date

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from accounts.decorators import portal_page
from topics import policy
from topics.archive import services as archive
from topics.archive.tables import DayTable, FileTable, NamespaceTable

PARQUET = "application/vnd.apache.parquet"


def day_in_url(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Http404("No such day.") from None


@portal_page
@require_GET
def namespace_list(request: HttpRequest) -> HttpResponse:
    namespaces = policy.readable_namespaces(request.user).select_related("owner_team", "retention_class")
    return render(request, "topics/archive/namespace_list.html",
                  {"table": NamespaceTable(namespaces, request=request)})


@portal_page
@require_GET
def day_list(request: HttpRequest, name: str) -> HttpResponse:
    namespace = policy.namespace_readable_by(request.user, name)
    return render(request, "topics/archive/day_list.html", {
        "namespace": namespace, "table": DayTable(archive.archived_days(request.user, namespace), request=request)})


@portal_page
@require_GET
def file_list(request: HttpRequest, name: str, day: str) -> HttpResponse:
    namespace = policy.namespace_readable_by(request.user, name)
    archived_day = day_in_url(day)
    return render(request, "topics/archive/file_list.html", {
        "namespace": namespace, "day": archived_day,
        "table": FileTable(archive.files_of_day(request.user, namespace, archived_day), request=request)})


@portal_page
@require_GET
def download(request: HttpRequest, name: str, day: str, file: str) -> FileResponse:
    namespace = policy.namespace_readable_by(request.user, name)
    opened = archive.open_file(request.user, namespace, day_in_url(day), file)
    if opened is None:
        raise Http404("No such file.")
    return file_response(*opened)


def file_response(archived, size: int, stream) -> FileResponse:
    """The file streamed as an attachment (the API's download too), in chunks: the store's stream is no Python
    file a WSGI server's file wrapper could take over."""
    response = FileResponse(_chunks(stream), content_type=PARQUET)
    response["Content-Disposition"] = content_disposition_header(True, archived.key.rpartition("/")[2])
    response["Content-Length"] = str(size)
    return response


def _chunks(stream, size: int = 1 << 20):
    with stream:
        while chunk := stream.read(size):
            yield chunk
