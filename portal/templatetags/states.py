"""`{% load states %}` — the badge colour of a state (request, grant, credential) on any page; the names of
the states are the apps', the colours are portal.css's."""
from __future__ import annotations

from django import template

register = template.Library()

# the badge colour (portal.css) of a request, grant or credential state: waiting, good, bad; others plain
TONES = {"pending": "state-pending", "partially_approved": "state-pending", "retiring": "state-pending",
         "approved": "state-ready", "active": "state-ready", "rejected": "state-error", "revoked": "state-error"}


@register.filter
def tone(state: str) -> str:
    return TONES.get(state, "")
