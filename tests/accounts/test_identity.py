"""Roles and teams derive from LDAP groups through the admin-edited mapping."""
from __future__ import annotations

import pytest

from accounts.models import GroupMapping, Role
from accounts.services.identity import identity_of, members_of


@pytest.mark.django_db
def test_roles_and_teams_follow_the_mapping(world):
    assert identity_of(world.engineer).team_ids == {world.payments.pk}
    assert identity_of(world.engineer).roles == {Role.ENGINEER}
    assert identity_of(world.owner).roles == {Role.ENGINEER, Role.NAMESPACE_OWNER}
    assert identity_of(world.auditor).roles == {Role.AUDITOR} and not identity_of(world.auditor).team_ids
    assert identity_of(world.admin).is_admin
    assert identity_of(world.service_account.user).service_account == world.service_account
    assert [u.username for u in members_of(world.payments)] == ["alice", "bob"]


@pytest.mark.django_db
def test_a_mapping_edit_takes_effect_at_once(world):
    GroupMapping.objects.create(ldap_group="team-payments", role=Role.AUDITOR)
    world.engineer.refresh_from_db()
    assert identity_of(world.engineer).is_auditor
