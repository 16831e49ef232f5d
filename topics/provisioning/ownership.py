"""What Logwarden created on each cluster: recorded when the broker confirms a user or binding, forgotten
when it deletes one (or finds it gone). The planner deletes nothing else.

Installations older than these records adopt, on their first reconcile of a cluster, the `<principal>.a` and
`<principal>.b` users of the principals in the database and those users' bindings that match what a grant of
theirs gives now or gave once (`adoption_candidates`). This is done by the reconciler, not a data migration:
what exists is on the broker, which a migration must not need to reach.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import Q

from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType
from topics.models import Grant, KafkaCluster, KafkaPrincipal, OwnedAclBinding, OwnedScramUser
from topics.provisioning.desired import group_binding, read_bindings
from topics.provisioning.planner import Owned

_FIELDS = ("principal", "resource_type", "resource_name", "pattern_type", "operation", "permission", "host")
_SLOTS = ("a", "b")
_DELETE_CHUNK = 500  # bindings per DELETE … WHERE (a OR b OR …)


# a cluster's records are read on every reconcile (hundreds of thousands of rows): a dict lookup per column
# instead of an Enum(value) call
_MEMBERS = tuple({member.value: member for member in kind} for kind in (ResourceType, PatternType, Operation,
                                                                         Permission))


def owned_by(cluster: KafkaCluster) -> Owned:
    resources, patterns, operations, permissions = _MEMBERS
    acls = frozenset(AclBinding(principal, resources[kind], name, patterns[pattern], operations[operation],
                                permissions[permission], host)
                     for principal, kind, name, pattern, operation, permission, host
                     in OwnedAclBinding.objects.filter(cluster=cluster).values_list(*_FIELDS))
    users = frozenset(OwnedScramUser.objects.filter(cluster=cluster).values_list("username", flat=True))
    return Owned(acls, users)


def record(cluster: KafkaCluster, *, acls: Iterable[AclBinding] = (), users: Iterable[str] = ()) -> None:
    OwnedAclBinding.objects.bulk_create(
        [OwnedAclBinding(cluster=cluster, **_columns(b)) for b in acls], ignore_conflicts=True, batch_size=1000)
    OwnedScramUser.objects.bulk_create([OwnedScramUser(cluster=cluster, username=u) for u in users],
                                       ignore_conflicts=True, batch_size=1000)


def forget(cluster: KafkaCluster, *, acls: Iterable[AclBinding] = (), users: Iterable[str] = ()) -> None:
    acls = list(acls)
    for start in range(0, len(acls), _DELETE_CHUNK):
        matches = reduce(or_, (Q(**_columns(b)) for b in acls[start:start + _DELETE_CHUNK]))
        OwnedAclBinding.objects.filter(matches, cluster=cluster).delete()
    OwnedScramUser.objects.filter(cluster=cluster, username__in=list(users)).delete()


def adoption_candidates(cluster: KafkaCluster) -> Owned:
    """Everything Logwarden may have created on the cluster before it kept records: each principal's users in
    both slots, and their read and group bindings for every topic of the cluster they ever held a grant on."""
    users, acls = set(), set()
    for principal in KafkaPrincipal.objects.all().only("name"):
        for slot in _SLOTS:
            username = f"{principal.name}.{slot}"
            users.add(username)
            acls.add(group_binding(username, principal.group_prefix))
    grants = Grant.objects.filter(topic__cluster=cluster).values_list("principal__name", "topic__name").distinct()
    for principal_name, topic in grants:
        for slot in _SLOTS:
            acls.update(read_bindings(f"{principal_name}.{slot}", topic))
    return Owned(frozenset(acls), frozenset(users))


def _columns(b: AclBinding) -> dict[str, str]:
    return {"principal": b.principal, "resource_type": b.resource_type.value, "resource_name": b.resource_name,
            "pattern_type": b.pattern_type.value, "operation": b.operation.value,
            "permission": b.permission.value, "host": b.host}
