"""The Kafka identity the fleet's shippers write with: system principal shipper.<fleet> of role `shipper`, and the
fleet's quarantine topic.

The role gets WRITE and DESCRIBE on every managed topic of the cluster (the quarantine topics are catalogue
topics too) and nothing else: no READ, no consumer groups. The principal and its two-slot credentials are
topics.provisioning.system_principals'; its password reaches the cluster only in the fleet's Secret, added when
applying (shipper.fleet.services), so revisions, plans, pages and audit events carry the username alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from portal.core import audit
from shipper.fleet.models import Fleet, Unrouted
from topics.catalogue import services as catalogue
from topics.kafka.types import AclBinding, Operation
from topics.models import CredentialState, KafkaCredential
from topics.provisioning import system_principals, system_roles

ROLE = "shipper"


def bindings(cluster, usernames: frozenset[str], managed_topics: frozenset[str]) -> set[AclBinding]:
    """The role's ACLs: write (and describe, which producers need for metadata) every managed topic."""
    return system_roles.topic_bindings(usernames, managed_topics, [Operation.WRITE, Operation.DESCRIBE])


@dataclass(frozen=True)
class ShipperCredential:
    username: str
    password: str | None = None  # None: not provisioned yet, the Secret then holds the username only

    def __repr__(self) -> str:  # never the password
        return f"ShipperCredential({self.username!r}, password={'kept' if self.password else 'pending'})"


def provision(fleet: Fleet) -> None:
    """The fleet's principal (a pending credential the next reconcile makes) and its quarantine topic (created on
    the broker by the topic sync) when the fleet quarantines. Idempotent: run when a fleet is created and applied."""
    system_principals.ensure(fleet.principal_name, ROLE, fleet.kafka_cluster)
    if fleet.unrouted == Unrouted.QUARANTINE:
        catalogue.ensure_quarantine(audit.SYSTEM, cluster=fleet.kafka_cluster, topic_name=fleet.quarantine_topic)


def current_credential(fleet: Fleet) -> ShipperCredential:
    """The slot the shippers should write with now: the newest active one (during a rotation, the new slot once the
    reconciler made it); slot a, without a password, before the first reconcile."""
    try:
        settings = system_principals.client_settings(fleet.principal_name, fleet.kafka_cluster)
    except system_principals.SystemCredentialUnavailable:
        return ShipperCredential(f"{fleet.principal_name}.a")
    return ShipperCredential(settings["sasl.username"], settings["sasl.password"])


def slots(fleet: Fleet) -> list[KafkaCredential]:
    """The principal's credentials on the fleet's cluster that are not removed, newest first (for its page)."""
    return list(KafkaCredential.objects.filter(principal__name=fleet.principal_name, principal__user__isnull=True,
                                               cluster=fleet.kafka_cluster).exclude(state=CredentialState.REMOVED)
                .order_by("-created_at"))


def live_credentials(fleet: Fleet) -> list[KafkaCredential]:
    """The principal's slots that still work on the broker (active, or retiring within a rotation's overlap)."""
    return list(KafkaCredential.objects.filter(principal__name=fleet.principal_name, principal__user__isnull=True,
                                               cluster=fleet.kafka_cluster,
                                               state__in=[CredentialState.ACTIVE, CredentialState.RETIRING]))


def rotate(fleet: Fleet, *, overlap: timedelta):
    """Starts a rotation of the shipper's credential: the next reconcile makes the other slot, the fleet's next
    routing refresh renders a revision with that slot's Secret and applies it (the pods roll onto it), and the old
    slot keeps working until the overlap ends."""
    return system_principals.rotate(fleet.principal_name, fleet.kafka_cluster, overlap=overlap)
