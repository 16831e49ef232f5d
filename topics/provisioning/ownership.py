"""What Logwarden created on each cluster: recorded when the broker confirms a user or binding, forgotten
when it deletes one (or finds it gone). The planner deletes nothing else.

Installations older than these records adopt, on their first reconcile of a cluster, the `<principal>.a` and
`<principal>.b` users of the principals in the database and those users' bindings that match what a grant of
theirs gives now or gave once (`adoption_candidates`). This is done by the reconciler, not a data migration:
what exists is on the broker, which a migration must not need to reach.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q

from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType
from topics.catalogue.models import new_ownership_version
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


@dataclass
class _Copy:
    """This process's copy of one cluster's records, as they were at `version`."""

    version: str
    acls: set[AclBinding]
    users: set[str]


# by cluster id; the runs of a worker process reuse what its earlier runs read and wrote instead of reading
# tens of thousands of rows again (a third of a no-op run's database time at 10,000 grants)
_copies: dict[int, _Copy] = {}
_copies_lock = threading.Lock()


def owned_by(cluster: KafkaCluster) -> Owned:
    """The cluster's records: this process's copy while the cluster's `ownership_version` is still the copy's,
    else read anew. The version is read before the rows: a change committed in between leaves a copy older
    than its version says, read again next time, never one newer."""
    version = KafkaCluster.objects.filter(pk=cluster.pk).values_list("ownership_version", flat=True).get()
    with _copies_lock:
        copy = _copies.get(cluster.pk)
        if copy is not None and copy.version == version:
            return Owned(frozenset(copy.acls), frozenset(copy.users))
    resources, patterns, operations, permissions = _MEMBERS
    acls = frozenset(AclBinding(principal, resources[kind], name, patterns[pattern], operations[operation],
                                permissions[permission], host)
                     for principal, kind, name, pattern, operation, permission, host
                     in OwnedAclBinding.objects.filter(cluster=cluster).values_list(*_FIELDS))
    users = frozenset(OwnedScramUser.objects.filter(cluster=cluster).values_list("username", flat=True))
    with _copies_lock:
        _copies[cluster.pk] = _Copy(version, set(acls), set(users))
    return Owned(acls, users)


def record(cluster: KafkaCluster, *, acls: Iterable[AclBinding] = (), users: Iterable[str] = ()) -> None:
    acls, users = list(acls), list(users)
    if not (acls or users):
        return
    OwnedAclBinding.objects.bulk_create(
        [OwnedAclBinding(cluster=cluster, **_columns(b)) for b in acls], ignore_conflicts=True, batch_size=1000)
    OwnedScramUser.objects.bulk_create([OwnedScramUser(cluster=cluster, username=u) for u in users],
                                       ignore_conflicts=True, batch_size=1000)
    _changed(cluster, lambda copy: (copy.acls.update(acls), copy.users.update(users)))


def forget(cluster: KafkaCluster, *, acls: Iterable[AclBinding] = (), users: Iterable[str] = ()) -> None:
    acls, users = list(acls), list(users)
    if not (acls or users):
        return
    for start in range(0, len(acls), _DELETE_CHUNK):
        matches = reduce(or_, (Q(**_columns(b)) for b in acls[start:start + _DELETE_CHUNK]))
        OwnedAclBinding.objects.filter(matches, cluster=cluster).delete()
    OwnedScramUser.objects.filter(cluster=cluster, username__in=users).delete()
    _changed(cluster, lambda copy: (copy.acls.difference_update(acls), copy.users.difference_update(users)))


def _changed(cluster: KafkaCluster, change: Callable[[_Copy], object]) -> None:
    """A new version for the cluster's records, in the transaction that changed them, and this process's copy
    changed alike when the version it had was still the cluster's (compared and set in one UPDATE): then the
    copy is what the database holds once this commits. A rollback puts the old version back, which no copy has
    any more, so the next read reads anew; so does every process whose copy is older."""
    new = new_ownership_version()
    with _copies_lock:
        copy = _copies.get(cluster.pk)
        had = copy.version if copy is not None else None
    # the UPDATEs run outside the lock: one may wait for another transaction's row lock
    swapped = had is not None and KafkaCluster.objects.filter(
        pk=cluster.pk, ownership_version=had).update(ownership_version=new) == 1
    if not swapped:
        KafkaCluster.objects.filter(pk=cluster.pk).update(ownership_version=new)
    with _copies_lock:
        copy = _copies.get(cluster.pk)
        if swapped and copy is not None and copy.version == had:
            change(copy)
            copy.version = new
        else:
            _copies.pop(cluster.pk, None)


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
