"""Filters that refuse what they cannot use, for every app's FilterSets (API query parameters and web filter
forms alike): a boolean that is not true/false and a date-time whose UTC offset PostgreSQL cannot store are
errors on their parameter, never a value silently ignored or a DataError (a 500) in the database."""
from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField, IsoDateTimeRangeField

from portal.core.limits import excerpt

# PostgreSQL's timestamptz accepts offsets up to ±15:59; Python's datetime up to ±23:59
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)
_TRUE = {"true", "1", "2"}  # "2"/"3": the values of Django's NullBooleanSelect
_FALSE = {"false", "0", "3"}
_UNSET = {"", "unknown"}


class BooleanSelect(forms.NullBooleanSelect):
    """Django's select, but a value it does not know reaches the field (which refuses it) instead of None."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if value is None or isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _UNSET:
            return None
        return True if word in _TRUE else False if word in _FALSE else value


class StrictBooleanField(forms.NullBooleanField):
    widget = BooleanSelect

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        raise ValidationError(f"Expected true or false, got {excerpt(value)!r}.", code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class BoundedOffsetDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        offset = parsed.utcoffset() if parsed is not None else None
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise ValidationError(f"The UTC offset of {excerpt(value)!r} is out of range: at most ±15:59.",
                                  code="invalid")
        return parsed


class _ParameterNamingRangeField(IsoDateTimeRangeField):
    """Errors name the query parameter (`created_at_after`), not the filter (`created_at`)."""

    parameter_names: tuple[str, str] = ("after", "before")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields = (BoundedOffsetDateTimeField(required=False), BoundedOffsetDateTimeField(required=False))

    def clean(self, value):
        for parameter, field, part in zip(self.parameter_names, self.fields, value or ("", ""), strict=False):
            try:
                field.clean(part)
            except ValidationError as exc:
                raise ValidationError([f"{parameter}: {message}" for message in exc.messages]) from None
        return super().clean(value)


class DateTimeRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """`<name>_after` / `<name>_before`: ISO 8601 date-times, both included."""

    field_class = _ParameterNamingRangeField

    @property
    def field(self):
        field = super().field
        field.parameter_names = tuple(f"{self.field_name}_{suffix}" for suffix in field.widget.suffixes)
        return field


class FilterSet(django_filters.FilterSet):
    """The model's boolean and date-time fields get the strict filters above."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
    }
