"""The records of what Logwarden made on a cluster, and a process's copy of them: the copy serves a run only while
the cluster's ownership version is the one it was made at, so changes of other processes, rolled-back changes
and records read anew are never mistaken for it. On the real PostgreSQL; no broker is touched."""
from __future__ import annotations

import pytest
from django.db import transaction

from topics.catalogue.models import new_ownership_version
from topics.kafka.types import AclBinding, Operation, PatternType, ResourceType
from topics.models import KafkaCluster, OwnedAclBinding, OwnedScramUser
from topics.provisioning import ownership
from topics.provisioning.desired import group_binding, read_bindings

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster(unique):
    return KafkaCluster.objects.create(name=f"own-{unique}", bootstrap="own-1:9092", security_protocol="PLAINTEXT")


def reads(username: str) -> set[AclBinding]:
    return {*read_bindings(username, "logs.a"), group_binding(username, username.removesuffix(".a") + ".")}


def as_another_process(cluster, username: str) -> None:
    """What another worker's ownership.record leaves in the database: a row and a new version."""
    OwnedAclBinding.objects.create(cluster=cluster, **ownership._columns(
        AclBinding(f"User:{username}", ResourceType.TOPIC, "logs.b", PatternType.LITERAL, Operation.READ)))
    KafkaCluster.objects.filter(pk=cluster.pk).update(ownership_version=new_ownership_version())


def test_what_is_recorded_and_forgotten_is_what_is_read_back_by_this_process_and_from_the_database(cluster):
    ownership.record(cluster, acls=reads("u.ann.a") | reads("u.bob.a"), users=["u.ann.a", "u.bob.a"])
    ownership.forget(cluster, acls=reads("u.bob.a"), users=["u.bob.a"])

    kept = ownership.owned_by(cluster)
    assert kept.acls == reads("u.ann.a") and kept.users == {"u.ann.a"}
    ownership._copies.clear()  # a process that never saw these changes reads the same from the rows
    assert ownership.owned_by(cluster) == kept
    assert set(OwnedScramUser.objects.filter(cluster=cluster).values_list("username", flat=True)) == {"u.ann.a"}


def test_a_current_copy_is_served_without_reading_the_rows(cluster, django_assert_num_queries):
    ownership.record(cluster, acls=reads("u.ann.a"), users=["u.ann.a"])
    ownership.owned_by(cluster)
    with django_assert_num_queries(1):  # the version only
        assert ownership.owned_by(cluster).acls == reads("u.ann.a")


def test_another_process_s_change_makes_the_copy_read_anew(cluster):
    ownership.record(cluster, acls=reads("u.ann.a"), users=["u.ann.a"])
    assert ownership.owned_by(cluster).acls == reads("u.ann.a")

    as_another_process(cluster, "u.cid.a")

    assert "User:u.cid.a" in {b.principal for b in ownership.owned_by(cluster).acls}
    ownership.record(cluster, users=["u.dan.a"])  # the copy read anew is kept up to date again
    assert ownership.owned_by(cluster).users == {"u.ann.a", "u.dan.a"}


def test_a_rolled_back_change_is_not_kept_in_the_copy(cluster):
    ownership.record(cluster, acls=reads("u.ann.a"), users=["u.ann.a"])
    with pytest.raises(RuntimeError), transaction.atomic():
        ownership.forget(cluster, acls=reads("u.ann.a"), users=["u.ann.a"])
        ownership.record(cluster, users=["u.eve.a"])
        assert ownership.owned_by(cluster).users == {"u.eve.a"}  # inside, the change is seen
        raise RuntimeError("the run's transaction fails")

    after = ownership.owned_by(cluster)
    assert after.acls == reads("u.ann.a") and after.users == {"u.ann.a"}


def test_a_change_of_another_process_between_this_one_s_read_and_write_is_not_lost(cluster):
    ownership.record(cluster, users=["u.ann.a"])
    ownership.owned_by(cluster)
    as_another_process(cluster, "u.cid.a")

    ownership.record(cluster, users=["u.fay.a"])  # its version is not the copy's: the copy is let go

    owned = ownership.owned_by(cluster)
    assert owned.users == {"u.ann.a", "u.fay.a"} and "User:u.cid.a" in {b.principal for b in owned.acls}


def test_nothing_to_record_or_forget_writes_nothing(cluster, django_assert_num_queries):
    with django_assert_num_queries(0):
        ownership.record(cluster)
        ownership.forget(cluster, acls=(), users=())
