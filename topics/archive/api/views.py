"""The archive API: the namespaces the caller may read, their archived days, a day's files, and the download of
one file (streamed, audited). A namespace the caller cannot see is a 404; one without a live grant a 403."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound

from portal.api.support import ScopedMixin, in_url
from accounts.models import DNS_LABEL
from topics import policy
from topics.archive import services as archive
from topics.archive.api.serializers import (ArchivedDaySerializer, ArchivedFileSerializer,
                                            ArchivedNamespaceSerializer)
from topics.archive.views import day_in_url, file_response
from topics.models import Namespace

DAY_IN_URL = r"\d{4}-\d{2}-\d{2}"
FILE_IN_URL = r"[^/]+\.parquet"


class ArchiveViewSet(ScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Namespace.objects.none()
    lookup_field = "name"
    lookup_value_regex = in_url(DNS_LABEL)
    serializer_class = ArchivedNamespaceSerializer
    filter_backends: list = []

    def scoped(self, user):
        return policy.readable_namespaces(user).select_related("retention_class")

    def _page(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(responses=ArchivedDaySerializer(many=True), summary="The namespace's archived days, newest first")
    @action(detail=True, methods=["get"], url_path="days", serializer_class=ArchivedDaySerializer)
    def days(self, request, name=None):
        namespace = policy.namespace_readable_by(request.user, name)
        return self._page(archive.archived_days(request.user, namespace), ArchivedDaySerializer)

    @extend_schema(responses=ArchivedFileSerializer(many=True), summary="The files of one archived day (UTC)")
    @action(detail=True, methods=["get"], url_path=rf"days/(?P<day>{DAY_IN_URL})/files",
            serializer_class=ArchivedFileSerializer)
    def files(self, request, name=None, day=None):
        namespace = policy.namespace_readable_by(request.user, name)
        return self._page(archive.files_of_day(request.user, namespace, day_in_url(day)), ArchivedFileSerializer)

    @extend_schema(responses={(200, "application/vnd.apache.parquet"): OpenApiResponse(OpenApiTypes.BINARY)},
                   summary="Downloads one archived Parquet file (audited)")
    @action(detail=True, methods=["get"], url_path=rf"days/(?P<day>{DAY_IN_URL})/files/(?P<file>{FILE_IN_URL})",
            pagination_class=None)
    def download(self, request, name=None, day=None, file=None):
        namespace = policy.namespace_readable_by(request.user, name)
        opened = archive.open_file(request.user, namespace, day_in_url(day), file)
        if opened is None:
            raise NotFound("No such file.")
        return file_response(*opened)
