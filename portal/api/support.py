"""What the apps' REST APIs share: permissions backed by the apps' policy modules, querysets scoped to the caller,
services' refusals as 400/409 responses, a serializer per action, writes through portal.core.audited for
rows without a domain service, and the strict parts of the contract: filter and page parameters that cannot be
used are a 400 naming them, and error messages never echo more than a short excerpt of a value.

Every object is addressed by its unique name where it has one (team slug, namespace, cluster, retention
class and service account names, token prefix), else by its id; request bodies name related rows the same way.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, permissions, serializers, status, views
from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings

from portal.core import audited
from portal.core.limits import excerpt

MESSAGE_LENGTH = 200


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Other rows still use this one."
    default_code = "conflict"


def in_url(pattern: str) -> str:
    """A name's anchored pattern as a viewset's lookup_value_regex: a path naming no possible row is a 404 before
    any query, and the schema types the path parameter with the pattern."""
    return pattern.removeprefix("^").removesuffix("$")


def _by_field(error: DjangoValidationError, renamed: Mapping[str, str]) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return {api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else renamed.get(field, field): messages
            for field, messages in error.message_dict.items()}


@contextmanager
def service_errors(value_error_field: str | None = None, *, renamed: Mapping[str, str] | None = None) \
        -> Iterator[None]:
    """Turns what a service refuses into API errors: django's ValidationError → 400 by field (the model's
    field names, which the serializers share, or the API's name for one in `renamed`), ValueError → 400 on
    `value_error_field`, ProtectedError → 409."""
    try:
        yield
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(_by_field(exc, renamed or {})) from None
    except ProtectedError as exc:
        used_by = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        raise Conflict(f"Still used by {', '.join(used_by)}: change or remove those first.") from None
    except ValueError as exc:
        raise exceptions.ValidationError({value_error_field or api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]}) \
            from None


class PolicyPermission(permissions.BasePermission):
    """Reads need `read_rule(user)`, changes `write_rule(user)`: functions of the app's policy module."""

    read_rule: Callable[[object], bool]
    write_rule: Callable[[object], bool]

    def has_permission(self, request, view) -> bool:
        rule = self.read_rule if request.method in permissions.SAFE_METHODS else self.write_rule
        return rule(request.user)


class ScopedMixin:
    """`scoped(user)` is the queryset the caller may see; drf-spectacular introspects without a caller."""

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.scoped(self.request.user)

    def scoped(self, user) -> QuerySet:
        raise NotImplementedError


class PerActionSerializerMixin:
    """`serializer_classes` maps an action to its serializer, e.g. a create serializer in which the fields
    fixed at creation (names, owning team) are writable, or a detail serializer showing more than the list."""

    serializer_classes: dict[str, type] = {}

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action) or super().get_serializer_class()


class AuditedWritesMixin:
    """Create, change and delete through portal.core.audited (validated, recorded in the audit trail)."""

    def perform_create(self, serializer) -> None:
        with service_errors():
            instance = serializer.Meta.model()
            audited.save(self.request.user, instance, **serializer.validated_data)
            serializer.instance = instance

    def perform_update(self, serializer) -> None:
        with service_errors():
            audited.save(self.request.user, serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance) -> None:
        with service_errors():
            audited.delete(self.request.user, instance)


def _shortened(detail):
    """Every message cut to a short excerpt: a refused value is named, never echoed back whole."""
    if isinstance(detail, dict):
        return {key: _shortened(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_shortened(item) for item in detail]
    if isinstance(detail, str) and len(detail) > MESSAGE_LENGTH:
        return excerpt(detail, MESSAGE_LENGTH)
    return detail


def exception_handler(exc, context):
    """DRF's handler, with every message shortened (settings.REST_FRAMEWORK's EXCEPTION_HANDLER)."""
    response = views.exception_handler(exc, context)
    if response is not None:
        response.data = _shortened(response.data)
    return response


def _refused(parameter: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({parameter: [message]})


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend; a filter parameter given empty (`?state=`) is refused, not ignored."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for parameter in _parameters(filterset):
                if parameter in request.query_params and not request.query_params[parameter].strip():
                    raise _refused(parameter, "Empty: give a value or leave the parameter out.")
        return filterset


def _parameters(filterset) -> Iterator[str]:
    for name, field in filterset.form.fields.items():
        suffixes = getattr(field.widget, "suffixes", None)
        yield from (f"{name}_{suffix}" for suffix in suffixes) if suffixes else (name,)


class Pagination(PageNumberPagination):
    """`page` (from 1) and `page_size` (up to settings.LOGWARDEN_API_MAX_PAGE_SIZE); other values are a 400."""

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.LOGWARDEN_API_MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise _refused(self.page_size_query_param,
                           f"Expected a whole number from 1 to {self.max_page_size}, got {excerpt(raw)!r}.")
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """DRF's parameters with the bounds get_page_size and get_page_number enforce."""
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: {"minimum": 1},
                  self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size}}
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        if not raw.isdigit() or int(raw) < 1:
            raise _refused(self.page_query_param, f"Expected a page number from 1, got {excerpt(raw)!r}.")
        return int(raw)


class NamesField(serializers.ListField):
    """A list of rows named by `slug_field`, at most settings.LOGWARDEN_MAX_LIST_LENGTH of them, resolved in
    one query; names that match no row are refused together (each as a short excerpt), duplicates count once."""

    def __init__(self, *, queryset: QuerySet, slug_field: str, allow_empty: bool = False, **kwargs) -> None:
        super().__init__(child=serializers.CharField(), allow_empty=allow_empty, **kwargs)
        self.queryset, self.slug_field = queryset, slug_field

    def to_internal_value(self, data):
        limit = settings.LOGWARDEN_MAX_LIST_LENGTH
        if isinstance(data, list) and len(data) > limit:
            raise serializers.ValidationError(f"At most {limit} items (this list has {len(data)}).")
        names = list(dict.fromkeys(super().to_internal_value(data)))
        found = self.queryset.filter(**{f"{self.slug_field}__in": names})
        rows = {getattr(row, self.slug_field): row for row in found}
        unknown = [excerpt(name) for name in names if name not in rows]
        if unknown:
            raise serializers.ValidationError(f"No such {self.slug_field}: {', '.join(unknown[:5])}"
                                              + (f" and {len(unknown) - 5} more." if len(unknown) > 5 else "."))
        return [rows[name] for name in names]

    def to_representation(self, value):
        return [getattr(row, self.slug_field) for row in value]


BLANK = {"type": "string", "maxLength": 0}


def blank_or_pattern(result: dict, generator, request, public) -> dict:
    """drf-spectacular's POSTPROCESSING_HOOKS entry: a blank-allowed text field with a pattern is emitted as
    `oneOf: [{pattern}, {maxLength: 0}]`, which makes "" invalid wherever the pattern matches "" too (one line per
    principal, zero lines included). Either alternative will do, so it becomes `anyOf`."""
    def walk(node):
        if isinstance(node, dict):
            if len(node.get("oneOf", ())) == 2 and node["oneOf"][1] == BLANK:
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(result)
    return result
