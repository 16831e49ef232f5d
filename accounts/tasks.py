"""The Celery task of accounts: the periodic directory sync (scheduled in portal/settings.py)."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from accounts.ldap.sync import sync_directory


@shared_task(name="accounts.sync_directory", acks_late=True)
def sync_directory_task() -> dict:
    """Ends the roles, sessions and grants' effect of people the directory no longer lists; nothing without
    LDAP. A directory that cannot be asked fails the run (and changes nothing)."""
    if not settings.LDAP_URI:
        return {"skipped": "LDAP_URI is not set"}
    report = sync_directory()
    return {"disabled": report.disabled, "updated": report.updated}
