"""The query API: the `logs` view's columns (GET /api/query/), a page of a query's rows (POST) and the whole
result (bounded) as a streamed CSV or JSON file (POST /api/query/download/). Who may read which namespace is
topics.policy's; parsing, the sandbox, budgets and audit are topics.query.services'."""
from __future__ import annotations

from dataclasses import asdict

from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.support import PolicyPermission, service_errors
from topics import policy
from topics.query import formats, services
from topics.query.api.serializers import (LogsViewSerializer, QueryDownloadSerializer,
                                          QueryRunSerializer, QueryPageSerializer)

REFUSALS = {400: OpenApiResponse(description="Bad input, or SQL that cannot run here (the message says why: a "
                                             "parse error, a refused statement or file access, a budget)."),
            403: OpenApiResponse(description="A namespace named without a live grant of yours."),
            404: OpenApiResponse(description="A namespace named that does not exist."),
            429: OpenApiResponse(description="As many queries as LOGWARDEN_QUERY_CONCURRENCY allows are running, or "
                                             "the API's rate: retry after Retry-After seconds."),
            503: OpenApiResponse(description="The archive's store cannot be listed right now: retry later.")}


class Unavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Unavailable, retry later."
    default_code = "unavailable"


def _refused(exc: services.QueryRefused) -> exceptions.APIException:
    if isinstance(exc, services.QueryBusy):
        return exceptions.Throttled(wait=1, detail=str(exc))
    if isinstance(exc, services.ArchiveUnavailable):
        return Unavailable(str(exc))
    return exceptions.ValidationError({"sql": [str(exc)]})


class QueryPermission(PolicyPermission):
    """Anyone signed in (people, active service accounts); each namespace then needs the caller's live grant."""

    read_rule = staticmethod(policy.can_browse_catalogue)
    write_rule = staticmethod(policy.can_browse_catalogue)


class QueryViewSet(viewsets.GenericViewSet):
    """SQL (DuckDB) over the archived logs of the namespaces the caller holds a live grant on, as the view `logs`."""

    permission_classes = [QueryPermission]
    pagination_class = None
    filter_backends = []

    def get_serializer_class(self):
        return {"create": QueryRunSerializer, "download": QueryDownloadSerializer}.get(
            self.action, LogsViewSerializer)

    def _scope(self, data) -> services.Scope:
        try:
            with service_errors():
                return services.scope_for(self.request.user, data.get("namespaces"), data.get("date_from"),
                                          data.get("date_to"))
        except Http404 as exc:
            raise exceptions.NotFound(str(exc)) from None
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None

    def _valid(self) -> dict:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(responses={200: LogsViewSerializer})
    def list(self, request) -> Response:
        """The columns of the view `logs` and the namespaces the caller may query."""
        return Response(LogsViewSerializer({
            "view": services.VIEW, "columns": [asdict(column) for column in services.logs_columns()],
            "namespaces": list(policy.readable_namespaces(request.user).order_by("name")
                               .values_list("name", flat=True))}).data)

    @extend_schema(request=QueryRunSerializer, responses={200: QueryPageSerializer, **REFUSALS})
    def create(self, request) -> Response:
        """Runs the query (within its time and memory budgets) and answers one page of its rows."""
        data = self._valid()
        scope = self._scope(data)
        try:
            result = services.run(request.user, data["sql"], scope, page=data["page"], page_size=data["page_size"])
        except services.QueryRefused as exc:
            raise _refused(exc) from None
        return Response(QueryPageSerializer({
            "columns": [asdict(column) for column in result.columns],
            "rows": [[formats.jsonable(value) for value in row] for row in result.rows],
            "page": result.page, "page_size": result.page_size, "has_next": result.has_next,
            "duration_ms": result.duration_ms, "files": result.files, "namespaces": list(scope.namespaces)}).data)

    @extend_schema(request=QueryDownloadSerializer, responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV: a header row, then the rows; "
                                                                         "JSON: an array of row objects."),
        (200, "application/json"): OpenApiResponse(OpenApiTypes.ANY),
        **REFUSALS})
    @action(detail=False, methods=["post"])
    def download(self, request) -> StreamingHttpResponse:
        """The query's whole result, at most LOGWARDEN_QUERY_DOWNLOAD_ROWS rows, streamed as a file; a failure
        mid-way (its time budget) breaks the transfer off rather than ending it as if complete."""
        data = self._valid()
        scope = self._scope(data)
        encode, content_type = formats.FILES[data["format"]]
        try:
            download = services.Download(request.user, data["sql"], scope, format_=data["format"], encode=encode)
        except services.QueryRefused as exc:
            raise _refused(exc) from None
        response = StreamingHttpResponse(download, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="logs-query.{data["format"]}"'
        return response
