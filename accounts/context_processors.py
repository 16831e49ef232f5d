"""What every page may show of the signed-in person: the person-level rules of accounts.policy, as `may`."""
from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from accounts import notifications, policy


def permissions(request) -> dict:
    """`{% if may.manage_catalogue %}` in any template; rules about an object are the views' to pass."""
    user = request.user
    return {"may": {"browse_catalogue": policy.can_browse_catalogue(user),
                    "manage_catalogue": policy.can_manage_catalogue(user),
                    "read_audit": policy.can_read_audit(user)}}


def unread_notifications(request) -> dict:
    """`unread_notifications`: counted only when a page shows it."""
    return {"unread_notifications": SimpleLazyObject(lambda: notifications.unread_count(request.user))}
