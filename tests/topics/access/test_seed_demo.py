"""The demo catalogue works with the demo directory: every seeded namespace can be approved by its people."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from portal.devservices.ldap import DEMO_PEOPLE
from tests.factories import person
from topics import policy
from topics.access import services as access
from topics.models import Namespace
from topics.provisioning.principals import principal_for


@pytest.mark.django_db
def test_every_demo_namespace_can_be_requested_and_approved_by_the_demo_people():
    call_command("seed_demo")
    people = {demo.uid: person(demo.uid, *demo.groups) for demo in DEMO_PEOPLE}  # as after their first sign-in
    requester = people["alice"]
    for namespace in Namespace.objects.order_by("name"):
        item = access.create_request(requester, principal=principal_for(requester), namespaces=[namespace],
                                     reason="demo", duration_days=1).items.get()
        for _ in range(item.approvals_required):
            decider = next(p for p in people.values() if policy.may_decide(p, item))
            access.decide(decider, item, "approve", "demo")
            item.refresh_from_db()
        assert item.state == "approved", namespace.name
