"""The directory sync: people the directory no longer lists (removed, or excluded by LDAP_PEOPLE_FILTER because
they are disabled) lose their roles, sessions and the effect of their grants within one sync interval
(LOGWARDEN_DIRECTORY_SYNC_MINUTES) instead of at a next sign-in that never comes; the others get their groups
and flags refreshed as at a sign-in, and the changes are audited.

A directory that cannot be asked raises DirectoryUnavailable and changes nothing: an outage must never look
like everybody leaving.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.ldap.backend import PortalLDAPBackend
from accounts.services import people
from portal.core import audit

log = logging.getLogger(__name__)
SOURCE = {"source": "directory-sync"}


@dataclass
class SyncReport:
    disabled: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def _roles_of(user) -> dict:
    return {"groups": sorted(user.groups.values_list("name", flat=True)), "is_staff": user.is_staff,
            "is_superuser": user.is_superuser}


def sync_directory() -> SyncReport:
    """Disables the directory people who left or were disabled, refreshes the others (see the module)."""
    backend = PortalLDAPBackend()
    listed = backend.listed_usernames()  # raises DirectoryUnavailable: nobody is disabled on an outage
    report = SyncReport()
    # People signed in through LDAP have no usable local password; local accounts and service accounts are
    # not the directory's.
    for user in (get_user_model().objects.filter(is_active=True, service_account__isnull=True)
                 .order_by("username")):
        if user.has_usable_password():
            continue
        if user.username.lower() not in listed:
            people.disable(audit.SYSTEM, user, reason="not listed in the directory", context=SOURCE)
            report.disabled.append(user.username)
            continue
        with transaction.atomic():
            before = _roles_of(user)
            refreshed = backend.populate_user(user.username)
            if refreshed is None:
                log.warning("directory sync: %s is listed but could not be refreshed", user.username)
                continue
            after = _roles_of(refreshed)
            if after != before:
                audit.record(audit.SYSTEM, "user.directory_update", refreshed, **SOURCE,
                             changes={key: {"from": before[key], "to": after[key]}
                                      for key in before if before[key] != after[key]})
                report.updated.append(user.username)
    return report
