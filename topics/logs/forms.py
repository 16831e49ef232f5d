"""The logs page's filter form; the API's query serializer (topics.logs.api.serializers) checks the same fields
with the same helpers (`filter_from`, `clean_*`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from topics.logs.archived import LIVE, SOURCES
from topics.logs.paging import BadCursor, Cursor
from topics.logs.records import MAX_FILTER_LENGTH, STREAMS, LogFilter, compile_pattern, parse_labels


def clean_labels(text: str) -> dict[str, str]:
    try:
        return parse_labels(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def clean_pattern(pattern: str) -> str:
    if pattern:
        try:
            compile_pattern(pattern)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
    return pattern


def clean_cursor(token: str) -> Cursor | None:
    if not token:
        return None
    try:
        return Cursor.decode(token)
    except BadCursor as exc:
        raise ValidationError(str(exc)) from None


def clean_range(since: datetime | None, until: datetime | None) -> None:
    if since and until and since >= until:
        raise ValidationError({"until": ["Must be after 'since'."]})


def filter_from(data: dict[str, Any]) -> LogFilter:
    """The LogFilter of a form's or serializer's cleaned data."""
    def ms(moment: datetime | None) -> int | None:
        return None if moment is None else int(moment.timestamp() * 1000)

    return LogFilter(pod=data.get("pod") or "", container=data.get("container") or "", stream=data.get("stream") or "",
                     labels=data.get("labels") or {}, text=data.get("text") or "", pattern=data.get("regex") or "",
                     since_ms=ms(data.get("since")), until_ms=ms(data.get("until")))


def _text(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=MAX_FILTER_LENGTH, help_text=help_text)


class LogFilterForm(forms.Form):
    source = forms.ChoiceField(label="Source", required=False, choices=[(s, s) for s in SOURCES],
                               help_text="the topic, or its archived days")
    pod = _text("Pod", "part of the pod name")
    container = _text("Container")
    stream = forms.ChoiceField(label="Stream", required=False, choices=[("", "any")] + [(s, s) for s in STREAMS])
    labels = _text("Labels", "key=value, comma separated")
    text = _text("Text", "in the log line, any case")
    regex = _text("Regular expression")
    since = forms.DateTimeField(label="From (UTC)", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}))
    until = forms.DateTimeField(label="Until (UTC)", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}))
    page_size = forms.IntegerField(label="Per page", required=False, min_value=1,
                                   max_value=settings.LOGWARDEN_LOGS_MAX_PAGE_SIZE)
    cursor = forms.CharField(required=False, max_length=20_000, widget=forms.HiddenInput)

    def clean_source(self) -> str:
        return self.cleaned_data["source"] or LIVE

    def clean_labels(self) -> dict[str, str]:
        return clean_labels(self.cleaned_data["labels"])

    def clean_regex(self) -> str:
        return clean_pattern(self.cleaned_data["regex"])

    def clean_cursor(self) -> Cursor | None:
        return clean_cursor(self.cleaned_data["cursor"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        clean_range(cleaned.get("since"), cleaned.get("until"))
        return cleaned
