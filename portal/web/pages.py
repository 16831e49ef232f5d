"""Helpers shared by the apps' web pages: refusing with a 403, putting service errors on forms, and the one form
per row of a queue page (approvals, reviews)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

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


F = TypeVar("F", bound=forms.Form)


def queue_forms(request: HttpRequest, rows: list, make_form: Callable[[int], F], *,
                bound: F | None = None) -> list[tuple[Any, F]]:
    """Each row of a queue page with its own form (`make_form(row.pk)`, which keeps the pk as `item_id`); after a
    failed submission the bound form takes its row's place, or, when that row has left the queue meanwhile, its
    errors become messages."""
    forms_by_row = {row.pk: make_form(row.pk) for row in rows}
    if bound is not None and bound.item_id in forms_by_row:
        forms_by_row[bound.item_id] = bound
    elif bound is not None:
        for errors in bound.errors.values():
            for error in errors:
                messages.error(request, error)
    return [(row, forms_by_row[row.pk]) for row in rows]
