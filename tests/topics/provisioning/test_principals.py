"""Principal names: a dotted username is escaped, so no principal's group prefix is a prefix of another's."""
from __future__ import annotations

import pytest

from tests.factories import person
from topics.provisioning.principals import principal_for


# --- principal names cannot overlap -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_dotted_usernames_get_principal_names_whose_group_prefixes_do_not_overlap(db):
    from topics.provisioning.principals import escape_username

    john, john_smith = principal_for(person("john")), principal_for(person("john.smith"))

    assert (john.name, john_smith.name) == ("u.john", "u.john_2esmith")
    assert not john_smith.group_prefix.startswith(john.group_prefix)
    assert not john.group_prefix.startswith(john_smith.group_prefix)
    assert "." not in john_smith.name.removeprefix("u.")
    assert [escape_username(n) for n in ("a_b", "a__2e", "é", "a@b-C9")] == [
        "a__b", "a____2e", "_c3_a9", "a_40b-C9"]
