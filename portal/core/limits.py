"""Bounds on what a client may send: the length of free text, and a short excerpt of a value for error messages.

The limits are read when a value is checked, not when a module is imported, so a migration records the
validator without a number and the setting alone decides (LOGWARDEN_MAX_TEXT_LENGTH).
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

EXCERPT_LENGTH = 60


def excerpt(value: object, length: int = EXCERPT_LENGTH) -> str:
    """`value` as text, cut to `length` characters with an ellipsis: an error message names what was refused
    without echoing a megabyte back."""
    text = str(value)
    return text if len(text) <= length else f"{text[:length]}…"


@deconstructible
class MaxTextLength:
    """Free text (reasons, comments, descriptions) of at most settings.LOGWARDEN_MAX_TEXT_LENGTH characters."""

    code = "max_length"

    def __call__(self, value: str) -> None:
        limit = settings.LOGWARDEN_MAX_TEXT_LENGTH
        if value is not None and len(value) > limit:
            raise ValidationError(f"At most {limit} characters (this text has {len(value)}).", code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MaxTextLength)

    def __hash__(self) -> int:
        return hash(MaxTextLength)
