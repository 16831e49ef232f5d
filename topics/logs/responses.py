"""Streamed answers (NDJSON downloads, server-sent events) for the page and API views alike: under an ASGI server
the stream is iterated asynchronously (Django would otherwise collect a plain iterator whole before sending it,
which a follow never finishes), under WSGI as a plain iterator."""
from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

from topics.logs.services import Stream


def streamed(request: HttpRequest, stream: Stream, content_type: str, *,
             filename: str = "") -> StreamingHttpResponse:
    body = stream.asynchronously() if isinstance(request, ASGIRequest) else iter(stream)
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must pass events on as they come
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response._resource_closers.append(stream.close)  # even a body never iterated releases its consumer
    return response
