"""The roles of Logwarden's own broker identities (system principals: `shipper.<fleet>`, `portal.reader`, …) and
the ACL bindings each role's principals get on a cluster.

The app that needs a role registers it in its AppConfig.ready (`register`), so imports stay one way; the desired
state (topics.provisioning.desired) adds each registered role's bindings for its principals on every cluster.
A principal whose role is no longer registered gets nothing: the reconciler removes its users and bindings.
Principals, credentials and passwords are topics.provisioning.system_principals'.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from topics.kafka.types import AclBinding, Operation, PatternType, ResourceType

# (cluster, the principal's live SCRAM usernames, the cluster's managed topic names) -> the bindings they need
Bindings = Callable[[object, frozenset[str], frozenset[str]], set[AclBinding]]
# every system principal's name starts with one of these, then one dot-free part: like `u.`/`sa.` names, no
# principal's `<name>.` group prefix may cover another's groups
NAME_PREFIXES = ("portal.", "shipper.")
NAME = re.compile(r"(portal|shipper)\.[a-z0-9][a-z0-9-]{0,62}\Z")


@dataclass(frozen=True)
class SystemRole:
    name: str
    bindings: Bindings
    consumer_groups: bool  # READ on its own consumer-group prefix `<principal>.`


_roles: dict[str, SystemRole] = {}


def register(role: str, *, bindings: Bindings, consumer_groups: bool = False) -> SystemRole:
    """Declares a role (idempotent for the same definition: AppConfig.ready may run twice)."""
    if not role or len(role) > 100:
        raise ValueError(f"a system role name has 1 to 100 characters, not {role!r}")
    registered = SystemRole(role, bindings, consumer_groups)
    if _roles.get(role, registered) != registered:
        raise ValueError(f"system role {role!r} is already registered with other bindings")
    _roles[role] = registered
    return registered


def unregister(role: str) -> None:
    _roles.pop(role, None)


def get(role: str) -> SystemRole | None:
    return _roles.get(role)


def topic_bindings(usernames: Collection[str], topics: Collection[str],
                   operations: Collection[Operation]) -> set[AclBinding]:
    """`operations` on each literal topic for each username: what most roles' `bindings` return."""
    return {AclBinding(f"User:{username}", ResourceType.TOPIC, topic, PatternType.LITERAL, operation)
            for username in usernames for topic in topics for operation in operations}
