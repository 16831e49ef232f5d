"""The Kafka credential the fleet's shippers write with: principal shipper.<fleet>.

Its password reaches the cluster only in the fleet's Secret, added when applying; revisions, plans, pages and
audit events carry the username alone.
"""
from __future__ import annotations

from dataclasses import dataclass

from shipper.fleet.models import Fleet


@dataclass(frozen=True)
class ShipperCredential:
    username: str
    password: str | None  # None: not provisioned yet, the Secret then holds the username only


def current_credential(fleet: Fleet) -> ShipperCredential:
    return ShipperCredential(f"{fleet.principal_name}.a", None)
