"""Helpers shared by the apps' web pages: refusing with a 403 and putting service errors on forms."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

T = TypeVar("T")


def require(allowed: bool) -> None:
    """A 403 page unless the policy rule the caller asked allowed it."""
    if not allowed:
        raise PermissionDenied


def submit(form: forms.Form, call: Callable[[dict[str, Any]], T]) -> T | None:
    """When the form is valid, hands its cleaned data to a service call and returns what the service made;
    otherwise, or when the service refuses the input, None, with every error on the form (see show_errors)."""
    if not form.is_valid():
        return None
    try:
        return call(form.cleaned_data)
    except ValidationError as exc:
        show_errors(form, exc)
        return None


def show_errors(form: forms.Form, error: ValidationError) -> None:
    """Puts a service's ValidationError on the form that collected the input: by field where the form has
    the field, else at the top. The form stays bound, so the page re-renders with everything typed."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
