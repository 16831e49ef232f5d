"""The admin client each cluster is reached through: kept per process and connection, let go when it changes."""
import pytest

from topics.catalogue.clusters import admin_for, drop_admins
from topics.models import KafkaCluster


@pytest.fixture
def east(db):
    drop_admins()
    yield KafkaCluster.objects.create(name="east", bootstrap="east-1:9092", security_protocol="PLAINTEXT")
    drop_admins()


def test_a_cluster_keeps_its_client_while_its_connection_stays(east):
    assert admin_for(east) is admin_for(KafkaCluster.objects.get(pk=east.pk))


def test_an_edited_bootstrap_gets_a_new_client_and_the_old_one_is_let_go(east):
    first = admin_for(east)
    east.bootstrap = "east-2:9092"
    east.save()

    second = admin_for(east)

    assert second is not first and second.connection.bootstrap == "east-2:9092"
    east.bootstrap = "east-1:9092"  # back: the client of the first address was let go, so a new one is made
    assert admin_for(east) is not first


def test_a_connection_two_clusters_share_keeps_its_client_while_one_of_them_uses_it(east):
    west = KafkaCluster.objects.create(name="west", bootstrap="east-1:9092", security_protocol="PLAINTEXT")
    shared = admin_for(east)
    assert admin_for(west) is shared

    west.bootstrap = "west-1:9092"
    admin_for(west)

    assert admin_for(east) is shared


def test_drop_admins_lets_every_client_go(east):
    first = admin_for(east)
    drop_admins()
    assert admin_for(east) is not first
