"""The logs page of a namespace: the filter form, a page of records newest first, links to the older and newer
pages, the NDJSON download and the follow button (the page's script opens the API's event stream: the same
views, signed in by the session)."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.decorators import portal_page
from portal.web.pages import require
from topics import policy
from topics.kafka.errors import KafkaAdapterError
from topics.logs import services
from topics.logs.forms import LogFilterForm, filter_from
from topics.logs.archived import ARCHIVE, ArchiveUnreadable
from topics.logs.reader import ReaderNotReady


def _query(request: HttpRequest, **changes: str) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@portal_page
@require_GET
def namespace_logs(request: HttpRequest, name: str) -> HttpResponse:
    namespace = get_object_or_404(policy.namespaces_visible_to(request.user), name=name)
    require(policy.may_read_namespace(request.user, namespace))
    form = LogFilterForm(request.GET)
    context = {"namespace": namespace, "form": form, "read": None, "unavailable": ""}
    status = 200
    if form.is_valid():
        try:
            read = services.read_page(request.user, namespace, filter_from(form.cleaned_data),
                                      cursor=form.cleaned_data["cursor"],
                                      page_size=form.cleaned_data["page_size"] or settings.LOGWARDEN_LOGS_PAGE_SIZE,
                                      origin=form.cleaned_data["source"])
        except (ReaderNotReady, KafkaAdapterError, ArchiveUnreadable) as exc:
            context["unavailable"], status = str(exc), 503
        else:
            without_cursor = request.GET.copy()
            without_cursor.pop("cursor", None)
            context.update(read=read, filter_query=without_cursor.urlencode(),
                           archive=form.cleaned_data["source"] == ARCHIVE,
                           older=_query(request, cursor=read.page.older.encode()) if read.page.older else "",
                           newer=_query(request, cursor=read.page.newer.encode())
                           if form.cleaned_data["cursor"] else "")
    else:
        status = 400
    return render(request, "topics/logs/namespace_logs.html", context, status=status)
