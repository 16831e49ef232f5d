"""Point in time, from recorded history: who could read a namespace (or what a principal could read) during a
window, and why; a namespace's timeline; and the reads the stale-access report looks at.

The answer is read from the tables that keep each fact with its time, through their indexes, never by scanning
the trail: grants (their interval, source, request and approvals), the reconciler's recorded broker changes
(acl.create/acl.delete events, looked up by binding through the trail's (target_type, target_id) index) and
the portal's reads (logs.read events, by namespace or reader). topics.history.replay recomputes it from the
trail alone; the two must agree.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.models import AuditEvent
from topics.history.answer import Access, Window, grant_end, ordered
from topics.catalogue.clusters import admin_for
from topics.models import (Approval, ConsumerGroupOffsets, Decision, Grant, KafkaCluster, KafkaCredential,
                           KafkaPrincipal, LastRead, Namespace, ReadChannel, RequestItem, Topic)
from topics.provisioning.desired import read_bindings
from topics.provisioning.planner import MANAGED_GROUP_PREFIXES, describe_acl

SLOTS = ("a", "b")
ACL_ACTIONS = ("acl.create", "acl.delete")


def _read_binding(username: str, topic: str) -> str:
    read, _describe = read_bindings(username, topic)
    return describe_acl(read)


def grants_during(window: Window, queryset: QuerySet[Grant] | None = None) -> QuerySet[Grant]:
    """Grants whose interval [valid_from, end) meets the window: answer.grant_end after the window's start is
    valid_until after it and no end (revocation, release, expiry) at or before it."""
    queryset = Grant.objects.all() if queryset is None else queryset
    return queryset.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=window.start), valid_from__lt=window.stop,
                           valid_until__gt=window.start)


GRANT_FIELDS = ("pk", "principal_id", "topic_id", "valid_from", "valid_until", "ended_at", "source", "state",
                "granted_by_id", "reason", "request_item_id")


def who_could_read(namespace: Namespace, window: Window) -> list[Access]:
    topics = list(Topic.objects.filter(namespace=namespace).values_list("pk", flat=True))
    grants = grants_during(window, Grant.objects.filter(topic_id__in=topics))
    reads = AuditEvent.objects.filter(action="logs.read", target_type=Namespace._meta.label_lower,
                                      target_id=str(namespace.pk))
    return _answer(grants, reads, window)


def what_could_read(principal: KafkaPrincipal, window: Window,
                    namespaces: QuerySet[Namespace] | None = None) -> list[Access]:
    """The principal's grants during the window (on `namespaces` only, when given: what the viewer may see)."""
    grants = grants_during(window, Grant.objects.filter(principal=principal))
    if namespaces is not None:
        grants = grants.filter(topic__namespace__in=namespaces)
    reads = (AuditEvent.objects.filter(action="logs.read", actor_id=principal.user_id) if principal.user_id
             else AuditEvent.objects.none())
    return _answer(grants, reads, window)


def _answer(grants: QuerySet[Grant], reads: QuerySet[AuditEvent], window: Window) -> list[Access]:
    """The rows, each of its facts read in a small query of its own by primary keys (one query joining them all
    spent longer planning than running)."""
    grants = [dict(zip(GRANT_FIELDS, row)) for row in grants.values_list(*GRANT_FIELDS)]
    if not grants:
        return []
    topics = {pk: (name, namespace, cluster) for pk, name, namespace, cluster in Topic.objects.filter(
        pk__in={g["topic_id"] for g in grants}).values_list("pk", "name", "namespace__name", "cluster__name")}
    principals = dict(KafkaPrincipal.objects.filter(pk__in={g["principal_id"] for g in grants})
                      .values_list("pk", "name"))
    granters = dict(get_user_model().objects.filter(pk__in={g["granted_by_id"] for g in grants})
                    .values_list("pk", "username"))
    items = {g["request_item_id"] for g in grants} - {None}
    requests = {pk: (request, requester) for pk, request, requester in RequestItem.objects.filter(
        pk__in=items).values_list("pk", "request_id", "request__requester__username")} if items else {}
    approvers: dict[int, list[str]] = defaultdict(list)
    if items:
        for item_id, username in (Approval.objects.filter(item_id__in=items, decision=Decision.APPROVE)
                                  .values_list("item_id", "approver__username")):
            approvers[item_id].append(username)
    held = _broker_held({(topics[g["topic_id"]][2], principals[g["principal_id"]], topics[g["topic_id"]][0])
                         for g in grants}, window)
    reads_by = _portal_reads(reads, min(g["valid_from"] for g in grants), window)
    rows = []
    for grant in grants:
        topic, namespace, cluster = topics[grant["topic_id"]]
        principal = principals[grant["principal_id"]]
        request, requester = requests.get(grant["request_item_id"], (None, ""))
        users = held.get((cluster, principal, topic), ())
        times = [at for at in reads_by.get((principal, topic), ()) if at >= grant["valid_from"]]
        rows.append(Access(
            principal=principal, namespace=namespace, topic=topic, cluster=cluster, grant=grant["pk"],
            source=grant["source"], state=grant["state"], valid_from=grant["valid_from"],
            ends_at=grant_end(grant["valid_until"], grant["ended_at"]),
            granted_by=granters.get(grant["granted_by_id"], "system"), reason=grant["reason"], request=request,
            requester=requester, approvers=tuple(sorted(approvers.get(grant["request_item_id"], ()))),
            broker_held=bool(users), broker_users=users, portal_reads=len(times),
            last_portal_read=max(times, default=None)))
    return ordered(rows)


def _broker_held(keys: set[tuple[str, str, str]], window: Window) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """(cluster, principal, topic) → the principal's users whose READ binding on the topic the broker held at some
    moment of the window: the last recorded change of the binding at or before the window's start a create, or a
    create inside the window."""
    bindings = {(cluster, _read_binding(f"{principal}.{slot}", topic)): (cluster, principal, topic, slot)
                for cluster, principal, topic in keys for slot in SLOTS}
    changes = (AuditEvent.objects.filter(target_type="kafka.acl", target_id__in={b for _, b in bindings},
                                         action__in=ACL_ACTIONS, occurred_at__lt=window.stop)
               .order_by("target_id", "-sequence").values_list("target_id", "data__cluster", "action", "occurred_at"))
    latest_before: dict[tuple[str, str], str] = {}
    created_inside: set[tuple[str, str]] = set()
    for binding, cluster, action, occurred_at in changes:
        key = (cluster, binding)
        if occurred_at > window.start:
            if action == "acl.create":
                created_inside.add(key)
        else:
            latest_before.setdefault(key, action)  # newest first
    held: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for key, (cluster, principal, topic, slot) in sorted(bindings.items(), key=lambda kv: kv[1]):
        if key in created_inside or latest_before.get(key) == "acl.create":
            held[(cluster, principal, topic)].append(f"{principal}.{slot}")
    return {key: tuple(users) for key, users in held.items()}


def _portal_reads(reads: QuerySet[AuditEvent], since: datetime, window: Window
                  ) -> dict[tuple[str, str], list[datetime]]:
    """(principal, topic) → times of their portal reads from `since` until the window's end."""
    found: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for principal, topic, occurred_at in (reads.filter(occurred_at__gte=since, occurred_at__lt=window.stop)
                                          .values_list("data__principal", "data__topic", "occurred_at")):
        found[(principal, topic)].append(occurred_at)
    return found


# --- a namespace's timeline -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Moment:
    at: datetime
    what: str  # grant.start, grant.end, acl.create, acl.delete, credential.rotate
    principal: str
    topic: str
    detail: str


TIMELINE_COLUMNS = ("at", "what", "principal", "topic", "detail")


def timeline(namespace: Namespace) -> list[Moment]:
    """Every grant's start and end on the namespace's topics, the broker's ACL changes for their holders and
    their credentials' rotations, in time order."""
    now = timezone.now()
    grants = list(Grant.objects.filter(topic__namespace=namespace).select_related("principal", "topic__cluster",
                                                                                  "granted_by"))
    moments = []
    for grant in grants:
        moments.append(Moment(grant.valid_from, "grant.start", grant.principal.name, grant.topic.name,
                              f"{grant.get_source_display()} by "
                              f"{grant.granted_by.username if grant.granted_by else 'system'}: {grant.reason}"))
        end = grant_end(grant.valid_until, grant.ended_at)
        if end <= now or grant.ended_at is not None:
            moments.append(Moment(end, "grant.end", grant.principal.name, grant.topic.name,
                                  grant.get_state_display()))
    holders = {(g.topic.cluster.name, g.principal.name, g.topic.name) for g in grants}
    bindings = {_read_binding(f"{principal}.{slot}", topic): (cluster, principal, topic)
                for cluster, principal, topic in holders for slot in SLOTS}
    for binding, cluster, action, occurred_at in (
            AuditEvent.objects.filter(target_type="kafka.acl", target_id__in=list(bindings), action__in=ACL_ACTIONS)
            .values_list("target_id", "data__cluster", "action", "occurred_at")):
        owner = bindings[binding]
        if owner[0] == cluster:
            moments.append(Moment(occurred_at, action, owner[1], owner[2], binding))
    credentials = KafkaCredential.objects.filter(principal_id__in={g.principal_id for g in grants},
                                                 cluster_id__in={g.topic.cluster_id for g in grants})
    for occurred_at, data in (AuditEvent.objects.filter(
            target_type=KafkaCredential._meta.label_lower, target_id__in=[str(pk) for pk in credentials.values_list(
                "pk", flat=True)], action="credential.rotate").values_list("occurred_at", "data")):
        moments.append(Moment(occurred_at, "credential.rotate", data.get("principal", ""), "",
                              f"{data.get('retiring', '')} → {data.get('new', '')}"))
    return sorted(moments, key=lambda m: (m.at, m.what))


# --- grants over time -----------------------------------------------------------------------------------------

def grants_per_day(namespace: Namespace, days: list) -> list[tuple]:
    """(day, grants, principals) for each day: the grants that let someone read the namespace during that UTC
    day, and how many principals held them."""
    first, last = Window.day(days[0]), Window.day(days[-1])
    grants = [(principal, begins, grant_end(valid_until, ended_at)) for principal, begins, valid_until, ended_at in
              grants_during(Window(first.start, last.stop), Grant.objects.filter(topic__namespace=namespace))
              .values_list("principal_id", "valid_from", "valid_until", "ended_at")]
    series = []
    for day in days:
        window = Window.day(day)
        live = [principal for principal, begins, ends in grants if window.meets(begins, ends)]
        series.append((day, len(live), len(set(live))))
    return series


# --- reads, for the stale-access report ----------------------------------------------------------------------

def note_read(principal: KafkaPrincipal | int, topic: Topic | int, channel: str, at: datetime) -> None:
    """Moves the principal's last read of the topic through `channel` forward to `at` (never back)."""
    principal_id = getattr(principal, "pk", principal)
    topic_id = getattr(topic, "pk", topic)
    updated = LastRead.objects.filter(principal_id=principal_id, topic_id=topic_id, channel=channel).filter(
        Q(last_read_at__lt=at)).update(last_read_at=at)
    if not updated:
        LastRead.objects.get_or_create(principal_id=principal_id, topic_id=topic_id, channel=channel,
                                       defaults={"last_read_at": at})



def sample_consumer_groups(cluster: KafkaCluster) -> int:
    """Looks at the committed offsets of every principal's consumer groups (`<principal>.…`) on the cluster: a
    group whose offsets moved since the last look — or seen for the first time: the broker forgets the offsets
    of a group idle past its offsets.retention.minutes, so one still listed committed within that — counts as a
    read of those topics by its principal now. Returns how many (principal, topic) reads it noted."""
    now = timezone.now()
    committed = admin_for(cluster).consumer_group_offsets(MANAGED_GROUP_PREFIXES)
    before = dict(ConsumerGroupOffsets.objects.filter(cluster=cluster).values_list("group", "offsets"))
    topics = dict(Topic.objects.filter(cluster=cluster).values_list("name", "pk"))
    owners = _group_owners(list(committed))
    noted = 0
    with transaction.atomic():
        for group, offsets in committed.items():
            previous = before.get(group)
            moved = [name for name, partitions in offsets.items()
                     if previous is None or previous.get(name) != partitions]
            ConsumerGroupOffsets.objects.update_or_create(cluster=cluster, group=group,
                                                          defaults={"offsets": offsets, "sampled_at": now})
            for name in moved:
                if group in owners and name in topics:
                    note_read(owners[group], topics[name], ReadChannel.CONSUMER_GROUP, now)
                    noted += 1
    return noted


def _group_owners(groups: list[str]) -> dict[str, int]:
    """group → the principal whose prefix (`<name>.`) it is under: the longest principal name that is one of the
    group's dot-separated beginnings (principal names have dots: u.alice, sa.payments-etl)."""
    beginnings = {group: [group[:at] for at, char in enumerate(group) if char == "."] for group in groups}
    names = dict(KafkaPrincipal.objects.filter(name__in={b for found in beginnings.values() for b in found})
                 .values_list("name", "pk"))
    owners = {}
    for group, found in beginnings.items():
        known = [name for name in found if name in names]
        if known:
            owners[group] = names[max(known, key=len)]
    return owners
