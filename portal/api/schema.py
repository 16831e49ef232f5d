"""The API's OpenAPI schema tells the whole truth (settings.REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS): besides the
answers drf-spectacular derives from the views, every operation documents the errors it really gives, with
their JSON shape, and the limits the server enforces that drf-spectacular cannot see (the length of a list of
names). Generated clients and fuzzers then agree with the server.

Which errors an operation gives follows from how the API works, so the rules below are the same everywhere:
- 400 anywhere: a NUL character in the path or query (portal.core.middleware), a body or parameter the
  operation refuses, an unknown filter value; the answer names each refused field.
- 401 and 403 where a caller must sign in: no or a refused token, or a session without CSRF token (403), and
  the policy's refusal (403).
- 404 where the path names an object: none by that name, or one the caller may not see (topics.policy); on a
  list, a page past the last.
- 409 on deleting a row other rows still use (a PROTECT foreign key: portal.api.support.service_errors).
- 413 and 415 where the operation takes a body: too large (portal.core.middleware.LimitRequestBody), or of a
  Content-Type DRF's parsers do not read.
- 429 anywhere: the rate limits (REST_FRAMEWORK's throttles).
An operation that gives another (410 on show-password) declares it with extend_schema; a code it declares
without a body gets the error shape here.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import permissions, serializers

from portal.api.support import NamesField

ERROR = ResolvedComponent(
    name="Error", type=ResolvedComponent.SCHEMA, object="Error",
    schema={"type": "object", "properties": {"detail": {"type": "string", "description": "What went wrong."}},
            "required": ["detail"]})
VALIDATION_ERROR = ResolvedComponent(
    name="ValidationError", type=ResolvedComponent.SCHEMA, object="ValidationError",
    schema={"type": "object", "description": "Each refused field or parameter (`non_field_errors`: the whole body; "
                                             "`detail`: the request as such) with its messages; a field of a "
                                             "nested object or list has its own messages by key or position.",
            "additionalProperties": {"anyOf": [{"type": "string"},
                                               {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                                                     {"type": "object"}]}},
                                               {"type": "object"}]}})

DESCRIPTIONS = {
    "400": "Bad input: the refused fields or parameters, each with its messages.",
    "401": "No credentials, or a token that is unknown, expired or revoked.",
    "403": "Not allowed: the caller's roles do not permit it (or a session's request lacks its CSRF token).",
    "404": "No such object, or one the caller may not see; on a list, a page past the last.",
    "409": "Other rows still use this one: change or remove those first.",
    "413": "The request body is larger than LOGWARDEN_MAX_BODY_BYTES.",
    "415": "The body's Content-Type is none the operation reads (JSON, a form, multipart).",
    "429": "Too many requests: retry after the number of seconds in Retry-After.",
}
BODY_METHODS = {"POST", "PUT", "PATCH"}
NOT_ONLY_SPACES = r"\S"  # unanchored: somewhere a character that is not white space
STORABLE_OFFSET = r"(Z|z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$"  # the UTC offsets PostgreSQL stores


class AutoSchema(SpectacularAutoSchema):
    def _error_codes(self) -> set[str]:
        codes = {"400", "429"}
        if not any(permission is permissions.AllowAny for permission in self.view.permission_classes):
            codes |= {"401", "403"}
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            codes.add("404")  # or, on a list, a page past the last
        if self.method in BODY_METHODS:
            codes |= {"413", "415"}
        if self.method == "DELETE" and self._is_protected():
            codes.add("409")
        return codes

    def _is_protected(self) -> bool:
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        return model is not None and any(getattr(relation, "on_delete", None) is models.PROTECT
                                         for relation in model._meta.related_objects)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for component in (ERROR, VALIDATION_ERROR):
            self.registry.register_on_missing(component)
        for code in sorted(self._error_codes()):
            responses.setdefault(code, {"description": DESCRIPTIONS[code]})
        for code, answer in responses.items():
            if code.startswith("4"):
                shape = VALIDATION_ERROR if code == "400" else ERROR
                answer.setdefault("content", {"application/json": {"schema": shape.ref}})
        return dict(sorted(responses.items()))

    def _get_filter_parameters(self) -> list[dict]:
        """StrictFilterBackend refuses an empty value, and PostgreSQL a UTC offset beyond ±15:59."""
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            schema = parameter["schema"]
            if schema.get("type") == "string" and schema.get("format") == "date-time":
                schema["pattern"] = STORABLE_OFFSET
            elif schema.get("type") == "string" and "enum" not in schema:
                schema.setdefault("pattern", NOT_ONLY_SPACES)
            elif schema.get("type") == "array":
                schema["minItems"] = 1
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, NamesField):  # its bound is a setting read when a list is checked
            schema.update(minItems=1, maxItems=settings.LOGWARDEN_MAX_LIST_LENGTH)
        if (direction == "request" and isinstance(field, serializers.CharField) and field.trim_whitespace
                and not field.allow_blank and "pattern" not in schema):
            schema["pattern"] = NOT_ONLY_SPACES  # DRF trims the text: blanks alone are an empty value
        return schema
