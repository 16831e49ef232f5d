"""Which LDAP groups give which team membership and role: adding and deleting group mappings, audited.

A change takes effect at once for people already signed in (identities are derived from the mappings at
each request).
"""
from __future__ import annotations

from django.db import transaction

from accounts.models import GroupMapping, Team
from portal.core import audit


def _describe(mapping: GroupMapping) -> dict:
    return {"ldap_group": mapping.ldap_group, "team": mapping.team.slug if mapping.team else None,
            "role": mapping.role or None}


def create(actor, *, ldap_group: str, team: Team | None = None, role: str = "") -> GroupMapping:
    """Raises ValidationError (by field) for a duplicate or a mapping to nothing."""
    with transaction.atomic():
        mapping = GroupMapping(ldap_group=ldap_group.strip(), team=team, role=role)
        mapping.full_clean()
        mapping.save()
        audit.record(actor, "group_mapping.create", mapping, **_describe(mapping))
    return mapping


def delete(actor, mapping: GroupMapping) -> None:
    with transaction.atomic():
        audit.record(actor, "group_mapping.delete", mapping, **_describe(mapping))
        mapping.delete()
