"""Bounds on what a client may send: the length of free text, and a short excerpt of a value for error messages.

The limits are read when a value is checked, not when a module is imported, so a migration records the
validator without a number and the setting alone decides (LOGWARDEN_MAX_TEXT_LENGTH).
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.deconstruct import deconstructible

EXCERPT_LENGTH = 60


def excerpt(value: object, length: int = EXCERPT_LENGTH) -> str:
    """`value` as text, cut to `length` characters with an ellipsis: an error message names what was refused
    without echoing a megabyte back."""
    text = str(value)
    return text if len(text) <= length else f"{text[:length]}…"


def max_text_length() -> int:
    return settings.LOGWARDEN_MAX_TEXT_LENGTH


@deconstructible
class MaxTextLength(MaxLengthValidator):
    """Free text (reasons, comments, descriptions) of at most settings.LOGWARDEN_MAX_TEXT_LENGTH characters.
    A MaxLengthValidator with the limit read at each check, so the API schema shows it as maxLength too."""

    message = "At most %(limit_value)d characters (this text has %(show_value)d)."

    def __init__(self) -> None:
        super().__init__(limit_value=max_text_length)

    def __call__(self, value: str) -> None:
        if value is not None:
            super().__call__(value)
