"""People's accounts: disabling someone (in the admin site, or because the directory no longer lists them)
ends their roles, their sessions and the effect of their grants at once, not at their next sign-in; enabling
them again is audited too. Service accounts are enabled and disabled through accounts.services.service_accounts."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.signals import person_active_changed
from portal.core import audit


def end_sessions(user) -> int:
    """Deletes the user's sessions (the database session store, the portal's), so every signed-in browser of
    theirs is signed out at its next request; returns how many."""
    ended = [session.pk for session in Session.objects.filter(expire_date__gt=timezone.now())
             if session.get_decoded().get(SESSION_KEY) == str(user.pk)]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def disable(actor, user, *, reason: str, context: Mapping[str, Any] | None = None) -> bool:
    """Disables `user` and takes their roles (groups, staff and superuser flags) and sessions away; receivers of
    `person_active_changed` end the effect of their grants in the same transaction. Returns False when the
    user was disabled already."""
    if not user.is_active:
        return False
    with transaction.atomic():
        groups = sorted(user.groups.values_list("name", flat=True))
        was_superuser = user.is_superuser
        user.is_active = user.is_staff = user.is_superuser = False
        user.save(update_fields=["is_active", "is_staff", "is_superuser"])
        user.groups.clear()
        audit.record(actor, "user.disable", user, **dict(context or {}), reason=reason, groups_removed=groups,
                     superuser_removed=was_superuser, sessions_ended=end_sessions(user))
        person_active_changed.send(sender=get_user_model(), user=user, active=False)
    return True


def enable(actor, user, *, context: Mapping[str, Any] | None = None) -> bool:
    """Enables `user` again; their roles come back with their directory groups at the next sign-in or sync.
    Returns False when the user was enabled already."""
    if user.is_active:
        return False
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit.record(actor, "user.enable", user, **dict(context or {}))
        person_active_changed.send(sender=get_user_model(), user=user, active=True)
    return True
