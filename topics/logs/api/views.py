"""The logs API: a page of a namespace's logs, its NDJSON download and a live follow (server-sent events), for
callers holding a live grant on it (topics.policy.live_read_grants, asked by topics.logs.services on every
request). An unknown namespace is a 404; a known one without a grant a 403, and nothing is read."""
from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, renderers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from topics import policy
from topics.kafka.errors import KafkaAdapterError
from topics.logs import services
from topics.logs.api.serializers import (LogDownloadQuerySerializer, LogFollowQuerySerializer,
                                         LogPageQuerySerializer, LogPageSerializer)
from topics.logs.forms import filter_from
from topics.logs.archived import ArchiveUnreadable
from topics.logs.reader import ReaderNotReady
from topics.logs.responses import streamed
from topics.models import Namespace


class LogsUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The logs cannot be read right now."
    default_code = "unavailable"


class LogsPermission(permissions.BasePermission):
    """Signed-in callers reach the views; on a namespace, only with a live grant (asked again by the service)."""

    message = "You hold no running grant on this namespace: request access first."

    def has_permission(self, request, view) -> bool:
        return policy.can_browse_catalogue(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return policy.may_read_namespace(request.user, obj)


class StreamedOrJson(BaseContentNegotiation):
    """A streamed body carries its own media type (NDJSON, event stream); whatever DRF renders here (an error) is
    JSON, whatever the client's Accept asks for the stream."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@contextmanager
def reading():
    """The reader not provisioned yet, or the broker (or the archive's store) not answering: a 503 that says so."""
    try:
        yield
    except ReaderNotReady as exc:
        raise LogsUnavailable(str(exc)) from None
    except KafkaAdapterError as exc:
        raise LogsUnavailable(f"Kafka did not answer: {exc}") from None
    except ArchiveUnreadable as exc:
        raise LogsUnavailable(str(exc)) from None


class NamespaceLogsMixin:
    permission_classes = [LogsPermission]

    def namespace(self, name: str) -> Namespace:
        namespace = get_object_or_404(policy.namespaces_visible_to(self.request.user), name=name)
        self.check_object_permissions(self.request, namespace)
        return namespace

    def query(self, serializer_class) -> dict:
        query = serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data


ERRORS = {400: OpenApiResponse(description="A query parameter is wrong (named)."),
          403: OpenApiResponse(description="No running grant on this namespace: nothing was read."),
          404: OpenApiResponse(description="No such namespace."),
          503: OpenApiResponse(description="The log reader, Kafka or the archive is not available yet.")}


class NamespaceLogsView(NamespaceLogsMixin, APIView):
    @extend_schema(operation_id="namespace_logs", parameters=[LogPageQuerySerializer],
                   responses={200: LogPageSerializer, **ERRORS}, tags=["logs"],
                   description="A page of the namespace's logs (of its topic, or with `source=archive` of its "
                               "archived days), newest first; `older`/`newer` cursors page on.")
    def get(self, request, name: str) -> Response:
        namespace = self.namespace(name)
        query = self.query(LogPageQuerySerializer)
        with reading():
            read = services.read_page(request.user, namespace, filter_from(query), cursor=query.get("cursor"),
                                      page_size=query.get("page_size") or settings.LOGWARDEN_LOGS_PAGE_SIZE,
                                      origin=query["source"])
        page = read.page
        return Response(LogPageSerializer({
            "records": [record.as_json() for record in page.records],
            "older": page.older.encode() if page.older else None, "newer": page.newer.encode(),
            "budget_spent": page.budget_spent, "scanned": page.scanned,
            "readable_since": read.readable_since}).data)


class NamespaceLogsDownloadView(NamespaceLogsMixin, APIView):
    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = StreamedOrJson

    @extend_schema(operation_id="namespace_logs_download", parameters=[LogDownloadQuerySerializer],
                   responses={(200, "application/x-ndjson"): OpenApiTypes.STR, **ERRORS}, tags=["logs"],
                   description="The filter's records as NDJSON, newest first, streamed; at most `limit`. Each line: "
                               "`partition`, `offset`, `timestamp`, `malformed`, `raw`, then a shipper record's own "
                               "fields as it wrote them (a malformed record: `raw` and the empty fields of a page's "
                               "record). `source=archive` downloads the archived days.")
    def get(self, request, name: str):
        namespace = self.namespace(name)
        query = self.query(LogDownloadQuerySerializer)
        with reading():
            stream = services.Download(request.user, namespace, filter_from(query), limit=query.get("limit"),
                                       origin=query["source"])
        return streamed(request._request, stream, "application/x-ndjson", filename=f"{namespace.name}-logs.ndjson")


class NamespaceLogsFollowView(NamespaceLogsMixin, APIView):
    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = StreamedOrJson

    @extend_schema(operation_id="namespace_logs_follow", parameters=[LogFollowQuerySerializer],
                   responses={(200, "text/event-stream"): OpenApiTypes.STR, **ERRORS}, tags=["logs"],
                   description="Server-sent events: `record` for each new matching record, `end` when the grant "
                               "ends (checked every LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS).")
    def get(self, request, name: str):
        namespace = self.namespace(name)
        query = self.query(LogFollowQuerySerializer)
        with reading():
            stream = services.Follow(request.user, namespace, filter_from(query))
        return streamed(request._request, stream, "text/event-stream")
