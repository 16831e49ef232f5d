"""Fleet settings, validation, revisions and routing from the catalogue (database only: nothing is applied)."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portal.core.audit import SYSTEM
from shipper import tasks
from shipper.fleet import services
from shipper.fleet.diff import unified
from tests.fleet_helpers import make_fleet, ready
from tests.helpers import events
from topics.catalogue import services as catalogue

pytestmark = pytest.mark.django_db


def test_a_new_fleet_has_its_first_revision_rendered_from_the_catalogue(world, unique, pay):
    ready(pay)

    fleet = make_fleet(unique, world.admin)

    (revision,) = fleet.revisions.all()
    assert revision.number == 1 and revision.reason == "created" and revision.author_label == world.admin.username
    assert revision.routes == {pay.name: f"logs.{pay.name}"}
    assert f'== "{pay.name}"' in revision.config
    assert [e.data["revision"] for e in events("fleet.revision")] == [1]
    assert events("fleet.create")[0].data["flavour"] == "otel"


@pytest.mark.parametrize("field, value, message", [
    ("name", "Bad_Name", "lowercase letters"),
    ("cpu_request", "0.5", "CPU as"),
    ("memory_limit", "1G", "Memory as"),
    ("tolerations", [{"key": "a", "operator": "Sometimes"}], "operator is Exists or Equal"),
    ("tolerations", {"key": "a"}, "A list of tolerations"),
    ("node_selector", {"kubernetes.io/os": ["linux"]}, "not a valid label value"),
    ("image", "https://evil/x", "An image reference"),
    ("quarantine_topic", "logs quarantine", "A Kafka topic name"),
    ("buffer_mib", 0, "greater than or equal to 1"),
])
def test_bad_settings_are_refused_naming_the_field(world, unique, field, value, message):
    with pytest.raises(ValidationError) as refused:
        make_fleet(unique, **{field: value})
    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])
    assert not events("fleet.create") and not events("fleet.revision")


def test_settings_that_do_not_fit_together_are_refused_naming_the_field(world, unique):
    fleet = make_fleet(unique)
    for changes, field in (({"buffer_mib": 600}, "buffer_mib"), ({"cpu_request": "2"}, "cpu_request"),
                           ({"log_access": "group"}, "log_group_id")):
        with pytest.raises(ValidationError) as refused:
            services.update_fleet(world.admin, fleet, reason="try", **changes)
        assert field in refused.value.message_dict
    fleet.refresh_from_db()
    assert fleet.buffer_mib == 64 and fleet.revisions.count() == 1


def test_a_settings_change_makes_a_revision_with_its_reason_and_a_diff(world, unique):
    fleet = make_fleet(unique)

    revision = services.update_fleet(world.admin, fleet, reason="bursty namespaces", buffer_mib=128)

    assert revision.number == 2 and revision.reason == "bursty namespaces"
    lines = unified(fleet.revisions.get(number=1), revision)
    assert "-    limit_mib: 64" in lines and "+    limit_mib: 128" in lines
    (update,) = events("fleet.update")
    assert update.data["changes"] == {"buffer_mib": {"from": 64, "to": 128}} and update.data["reason"]


def test_a_change_that_renders_the_same_makes_no_revision_and_needs_a_reason(world, unique):
    fleet = make_fleet(unique)
    assert services.update_fleet(world.admin, fleet, reason="drift repair on", enforce=True) is None
    assert fleet.revisions.count() == 1
    with pytest.raises(ValidationError, match="reason"):
        services.update_fleet(world.admin, fleet, reason=" ", buffer_mib=100)
    with pytest.raises(ValueError, match="kube_namespace"):
        services.update_fleet(world.admin, fleet, reason="move", kube_namespace="elsewhere")


def test_routing_follows_the_catalogue_ready_topics_in_and_retired_namespaces_out(world, unique, pay, chk):
    fleet = make_fleet(unique)
    assert fleet.revisions.get().routes == {}, "a topic not on the broker yet is not routed"

    ready(pay)
    ready(chk)
    added = services.refresh_routing(fleet)
    assert added.routes == {pay.name: f"logs.{pay.name}", chk.name: f"logs.{chk.name}"}
    assert added.reason == f"catalogue: +{chk.name} → logs.{chk.name}, +{pay.name} → logs.{pay.name}"
    assert added.author_label == SYSTEM.label
    assert services.refresh_routing(fleet) is None, "nothing changed"

    catalogue.retire_namespace(world.admin, chk, reason="gone")
    retired = services.refresh_routing(fleet)
    assert retired.routes == {pay.name: f"logs.{pay.name}"} and retired.reason == f"catalogue: −{chk.name}"
    assert chk.name not in retired.config


def test_a_catalogue_change_enqueues_a_routing_refresh_after_commit(world, unique, pay,
                                                                   django_capture_on_commit_callbacks, celery_eager):
    fleet = make_fleet(unique)
    ready(pay)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        catalogue.retire_namespace(world.admin, pay, reason="gone")
    assert tasks.refresh_fleet_routing.delay in callbacks
    assert fleet.revisions.count() == 1, "retiring a namespace that was never routed changes nothing"
