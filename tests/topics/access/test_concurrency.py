"""Decisions and grants made at the same moment, by real concurrent transactions on PostgreSQL: the request
still closes, and one principal still gets one credential per cluster (never a unique-constraint error)."""
from __future__ import annotations

import pytest

from tests.factories import ask, person, topic_of
from tests.helpers import at_once
from topics.access import services as access
from topics.catalogue.clusters import default_cluster
from topics.models import AccessRequest, Grant, KafkaCredential, Namespace, RequestState
from topics.provisioning.principals import principal_for

pytestmark = pytest.mark.django_db(transaction=True)


def _payments_namespace(world, name: str) -> Namespace:
    namespace = Namespace.objects.create(name=name, owner_team=world.payments,
                                         retention_class=world.ns_payments.retention_class)
    topic_of(namespace)
    return namespace


def test_two_items_of_one_request_decided_at_once_close_the_request(world, unique):
    pat = person("pat", "team-payments", "logwarden-owners")
    first, second = _payments_namespace(world, f"a-{unique}"), _payments_namespace(world, f"b-{unique}")
    request = ask(world, first, second)
    items = {item.namespace_id: item for item in request.items.all()}

    outcomes = at_once(lambda: access.decide(world.owner, items[first.pk], "approve", "ok"),
                       lambda: access.decide(pat, items[second.pk], "approve", "ok"))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED and request.closed_at is not None
    assert Grant.objects.filter(request_item__request=request).count() == 2


def test_two_grants_for_one_principal_at_once_share_one_credential(world, unique):
    first, second = _payments_namespace(world, f"a-{unique}"), _payments_namespace(world, f"b-{unique}")
    alice = principal_for(world.engineer)

    outcomes = at_once(*[lambda topic=namespace.topics.get(): access.grant_directly(
        world.admin, principal=alice, topic=topic, days=3, reason="incident") for namespace in (first, second)])

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes  # was an IntegrityError (a 500)
    assert Grant.objects.filter(principal=alice).count() == 2
    assert list(KafkaCredential.objects.filter(principal=alice, cluster=default_cluster())
                .values_list("slot", flat=True)) == ["a"]
    assert AccessRequest.objects.count() == 0
