"""Sections one app adds to another app's page, without the page's app importing it.

Imports point one way (portal ← accounts ← topics ← shipper), yet some pages of a lower app show what a
higher app holds: a team's page lists the namespaces it owns, a namespace's page who may read it. The page
names a slot and puts `panels(slot, request, obj)` in its context (rendered by `portal/_panels.html`); the
higher app registers a provider for the slot in its AppConfig.ready. A provider returns a dict with the
`template` that renders it (the dict is `panel` there), or None to add nothing, e.g. for someone who may
not see it.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from django.http import HttpRequest

Provider = Callable[[HttpRequest, object], dict | None]
_providers: dict[str, list[Provider]] = defaultdict(list)


def register(slot: str, provider: Provider) -> None:
    if provider not in _providers[slot]:
        _providers[slot].append(provider)


def panels(slot: str, request: HttpRequest, obj: object) -> list[dict]:
    return [panel for panel in (provider(request, obj) for provider in _providers[slot]) if panel]
