"""Point in time on the real broker: a namespace's timeline of a grant, portal reads, a credential rotation, a
revocation, a re-grant through a request, an expiry and a break-glass grant, built here through the services and
the real reconciler. At every instant the trail records (and just before and after each), on each day and over
windows between them, the answer from recorded history equals the replay of the audit trail, and says what
happened."""
from __future__ import annotations

import time
from datetime import timedelta
from itertools import pairwise

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import GroupMapping, Role
from portal.models import AuditEvent
from tests.factories import approve, ask, person
from topics.access import services as access
from topics.breakglass import services as breakglass
from topics.history import services as history
from topics.history.answer import ONE_TICK, Window
from topics.history.replay import Replay
from topics.logs import services as logs_services
from topics.logs.records import LogFilter
from topics.models import Grant, GrantSource, GrantState
from topics.provisioning import credentials
from topics.provisioning.principals import principal_for
from topics.provisioning.reconciler import reconcile

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]


def short_grant(principal, topic, *, actor, seconds: float, reason: str) -> Grant:
    """A grant made as the services make them (access.after_grants: audited, provisioned now, a reconcile due at
    its end), lasting `seconds`: shorter than any service allows, so that an expiry happens within the test."""
    now = timezone.now()
    with transaction.atomic():
        grant = Grant.objects.create(principal=principal, topic=topic, valid_from=now,
                                     valid_until=now + timedelta(seconds=seconds), source=GrantSource.ADMIN,
                                     granted_by=actor, reason=reason)
        access.after_grants([grant], actor, "grant.create")
    return grant


def responder():
    """rita, in the LDAP group mapped to the break-glass role."""
    GroupMapping.objects.get_or_create(ldap_group="logwarden-breakglass", role=Role.BREAK_GLASS)
    return get_user_model().objects.filter(username="rita").first() or person("rita", "logwarden-breakglass")


def read_once(holder, namespace) -> None:
    logs_services.read_page(holder, namespace, LogFilter(), page_size=5)


def assert_answers_agree(namespace, principals, windows) -> int:
    replay = Replay.of(AuditEvent.objects.order_by("sequence").iterator())
    for window in windows:
        assert history.who_could_read(namespace, window) == replay.answer(window, namespace=namespace.name), window
        for principal in principals:
            assert history.what_could_read(principal, window) == replay.answer(window, principal=principal.name), \
                (principal, window)
    return len(windows)


def test_the_recorded_answer_equals_the_replay_across_grant_rotation_revocation_regrant_expiry_and_break_glass(
        world, logs, django_capture_on_commit_callbacks):
    namespace, topic, alice = logs.namespace, logs.topic, world.engineer
    capture = django_capture_on_commit_callbacks
    rita = responder()
    alice_principal, etl, rita_principal = (principal_for(alice), principal_for(world.service_account.user),
                                            principal_for(rita))
    marks = {"granted": timezone.now()}

    read_once(alice, namespace)
    marks["read"] = timezone.now()
    with capture(execute=True):
        credentials.rotate(alice, alice_principal, topic.cluster, overlap=timedelta(0))
    reconcile(topic.cluster)  # the retired slot's user and ACLs leave
    marks["rotated"] = timezone.now()
    with capture(execute=True):
        access.end_grant(world.owner, logs.grant, how=GrantState.REVOKED, reason="incident closed")
    marks["revoked"] = timezone.now()
    with capture(execute=True):
        regrant = approve(world, ask(world, namespace, reason="a second look"), "ok once more")
    read_once(alice, namespace)
    marks["regranted"] = timezone.now()
    with capture(execute=True):
        expiring = short_grant(etl, topic, actor=world.admin, seconds=3,
                               reason="a short export")
    marks["etl_granted"] = timezone.now()
    time.sleep(max(0.0, (expiring.valid_until - timezone.now()).total_seconds()) + 0.2)
    reconcile(topic.cluster)  # expires it and takes its ACLs away
    marks["expired"] = timezone.now()
    with capture(execute=True):
        breakglass.break_glass(rita, namespace=namespace, reason="incident 42: payments down", hours=4)
    marks["break_glass"] = timezone.now()

    def at(mark: str) -> dict:
        return {row.principal: row for row in history.who_could_read(namespace, Window.instant(marks[mark]))}

    assert at("granted")["u.alice"].broker_users == ("u.alice.a",)
    assert (at("granted")["u.alice"].source, at("granted")["u.alice"].granted_by) == ("admin", "dave")
    assert at("read")["u.alice"].portal_reads == 1
    assert at("rotated")["u.alice"].broker_users == ("u.alice.b",)
    assert "u.alice" not in at("revoked")
    again = at("regranted")["u.alice"]
    assert (again.grant, again.source, again.requester, again.approvers, again.reason) == (
        regrant.pk, "request", "alice", ("bob",), "a second look")
    assert (again.broker_users, again.portal_reads) == (("u.alice.b",), 1)
    assert at("etl_granted")["sa.payments-etl"].broker_held
    assert "sa.payments-etl" not in at("expired")
    assert at("break_glass")["u.rita"].source == "break_glass" and at("break_glass")["u.rita"].broker_held
    # the day holds all of them: the first grant too, revoked that day
    assert {row.grant for row in history.who_could_read(namespace, Window.day(timezone.now().date()))} == set(
        Grant.objects.filter(topic=topic).values_list("pk", flat=True))

    moments = sorted({event.occurred_at for event in AuditEvent.objects.all()} | set(marks.values()))
    instants = [Window.instant(moment + shift) for moment in moments for shift in (-ONE_TICK, timedelta(0), ONE_TICK)]
    instants += [Window.instant(first + (second - first) / 2) for first, second in pairwise(moments)]
    spans = [Window(first, second) for first, second in pairwise(moments[::7])]
    days = [Window.day(timezone.now().date() + timedelta(days=shift)) for shift in (-1, 0, 1)]
    compared = assert_answers_agree(namespace, [alice_principal, etl, rita_principal], instants + spans + days)
    assert compared > 100


def test_the_timeline_lists_grants_acl_changes_and_the_rotation_in_time_order(
        world, logs, django_capture_on_commit_callbacks):
    alice_principal = principal_for(world.engineer)
    with django_capture_on_commit_callbacks(execute=True):
        credentials.rotate(world.engineer, alice_principal, logs.topic.cluster, overlap=timedelta(0))
    reconcile(logs.topic.cluster)
    with django_capture_on_commit_callbacks(execute=True):
        access.end_grant(world.owner, logs.grant, how=GrantState.REVOKED, reason="done")

    moments = history.timeline(logs.namespace)

    alice = [(m.what, m.detail.split(" ")[0]) for m in moments if m.principal == "u.alice"]
    # the rotation's run takes the retired slot's binding away before it writes the new one's (deletes first);
    # the revocation ends access at once, its run takes the binding away right after
    assert alice == [("grant.start", "Granted"), ("acl.create", "User:u.alice.a"), ("credential.rotate", "u.alice.a"),
                     ("acl.delete", "User:u.alice.a"), ("acl.create", "User:u.alice.b"), ("grant.end", "Revoked"),
                     ("acl.delete", "User:u.alice.b")]
    assert [m.at for m in moments] == sorted(m.at for m in moments)
