"""Telling people something: a notification in the portal, and an email through Django's mail settings.

The portal copy is written in the caller's transaction, so it exists exactly when the decision it reports does;
the email goes after commit, and a mail server that refuses it is logged, never allowed to undo the decision.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification
from portal.core import audit
from accounts.services.identity import people_with_role

log = logging.getLogger(__name__)


def notify(users: Iterable, subject: str, body: str, *, link: str = "") -> int:
    """Notifies each of `users` (once each, in the portal and by email where they have an address); returns how
    many were notified."""
    recipients = list({user.pk: user for user in users if user is not None and user.is_active}.values())
    subject = subject[:200]
    Notification.objects.bulk_create(Notification(recipient=user, subject=subject, body=body, link=link[:500])
                                     for user in recipients)
    text = f"{body}\n\n{settings.LOGWARDEN_PORTAL_URL.rstrip('/')}{link}\n" if link else f"{body}\n"
    emails = [(f"[Logwarden] {subject}", text, settings.DEFAULT_FROM_EMAIL, [user.email])
              for user in recipients if user.email]
    if emails:
        transaction.on_commit(lambda: _send(emails))
    return len(recipients)


def notify_role(role: str, subject: str, body: str, *, link: str = "") -> int:
    """Notifies everyone holding `role` (accounts.models.Role)."""
    return notify(people_with_role(role), subject, body, link=link)


def unread(user):
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)


def mark_read(user) -> int:
    """Marks all of `user`'s unread notifications as read (an audit event says how many); returns how many."""
    with transaction.atomic():
        count = unread(user).update(read_at=timezone.now())
        audit.record(user, "notification.read", target_type="auth.user", target_id=str(user.pk),
                     target_label=user.get_username(), count=count)
    return count


def unread_count(user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return unread(user).count()


def _send(emails: list[tuple]) -> None:
    try:
        send_mass_mail(emails, fail_silently=False)
    except Exception:  # noqa: BLE001 - the portal copy stands; a mail outage must not fail the decision
        log.exception("could not send %d notification emails", len(emails))
