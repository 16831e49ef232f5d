"""What the apps' REST APIs share: permissions backed by the apps' policy modules, querysets scoped to the caller,
services' refusals as 400/409 responses, a serializer per action, and writes through portal.core.audited for
rows without a domain service.

Every object is addressed by its unique name where it has one (team slug, namespace, cluster, retention
class and service account names, token prefix), else by its id; request bodies name related rows the same way.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, QuerySet
from rest_framework import exceptions, permissions, status
from rest_framework.settings import api_settings

from portal.core import audited


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Other rows still use this one."
    default_code = "conflict"


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
