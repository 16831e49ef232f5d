"""The query page: SQL over the archived logs of the namespaces the caller may read, a page of results at a time,
and the whole result (bounded) as a CSV or JSON download. The rules and the running are topics.query.services'."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import portal_page
from portal.web.pages import show_errors
from topics.query import formats, services
from topics.query.forms import QueryForm

PAGE_SIZE = 50


def _scope(request: HttpRequest, form: QueryForm) -> services.Scope:
    data = form.cleaned_data
    return services.scope_for(request.user, data["namespaces"], data["date_from"], data["date_to"])


def _page(request: HttpRequest, form: QueryForm, result: services.Page | None = None, *,
          status: int = 200) -> HttpResponse:
    return render(request, "topics/query/query.html", {
        "form": form, "result": result, "columns": services.logs_columns(), "formats": formats.FILES,
        "rows": [[formats.cell(value) for value in row] for row in result.rows] if result else []}, status=status)


def _refused(form: QueryForm, exc: services.QueryRefused) -> None:
    """The SQL's own refusal on its field; being busy or the archive out of reach, over the whole form."""
    form.add_error(None if isinstance(exc, (services.QueryBusy, services.ArchiveUnavailable)) else "sql", str(exc))


@portal_page
@require_http_methods(["GET", "POST"])
def query_page(request: HttpRequest) -> HttpResponse:
    form = QueryForm(request.POST or None, actor=request.user)
    if request.method != "POST":
        return _page(request, form)
    if form.is_valid():
        try:
            result = services.run(request.user, form.cleaned_data["sql"], _scope(request, form),
                                  page=form.cleaned_data["page"] or 1, page_size=PAGE_SIZE)
        except services.QueryRefused as exc:
            _refused(form, exc)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            return _page(request, form, result)
    return _page(request, form, status=400)


@portal_page
@require_POST
def query_download(request: HttpRequest, format_: str) -> HttpResponse:
    """The form's query as a file, streamed; refused input re-shows the page with the error."""
    if format_ not in formats.FILES:
        raise Http404(f"No download format {format_!r}.")
    encode, content_type = formats.FILES[format_]
    form = QueryForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            download = services.Download(request.user, form.cleaned_data["sql"], _scope(request, form),
                                         format_=format_, encode=encode)
        except services.QueryRefused as exc:
            _refused(form, exc)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            response = StreamingHttpResponse(download, content_type=content_type)
            response["Content-Disposition"] = f'attachment; filename="logs-query.{format_}"'
            return response
    return _page(request, form, status=400)
