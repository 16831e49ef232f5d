"""Desired Kafka state of one cluster, read from the database: the input of the planner."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from topics.kafka.types import AclBinding, Operation, PatternType, ResourceType
from topics.models import CredentialState, Grant, GrantState, KafkaCluster, KafkaCredential, Lifecycle, Topic
from topics.provisioning import system_roles
from topics.provisioning.planner import DesiredState


def read_bindings(username: str, topic: str) -> tuple[AclBinding, AclBinding]:
    principal = f"User:{username}"
    return (AclBinding(principal, ResourceType.TOPIC, topic, PatternType.LITERAL, Operation.READ),
            AclBinding(principal, ResourceType.TOPIC, topic, PatternType.LITERAL, Operation.DESCRIBE))


def group_binding(username: str, group_prefix: str) -> AclBinding:
    return AclBinding(f"User:{username}", ResourceType.GROUP, group_prefix, PatternType.PREFIXED, Operation.READ)


def live_grants(cluster: KafkaCluster, now: datetime):
    # a disabled account (person or service account) keeps its grant rows but loses their effect at once
    return (Grant.objects.filter(topic__cluster=cluster, state=GrantState.ACTIVE, valid_from__lte=now,
                                 valid_until__gt=now, principal__user__is_active=True)
            .exclude(topic__namespace__lifecycle=Lifecycle.RETIRED))


def desired_state(cluster: KafkaCluster, now: datetime) -> DesiredState:
    """The bindings of the grants `live_grants` names (the same rules: in their time, an enabled account, a
    namespace not retired), read as three plain queries joined here: the grants of the cluster's topics in
    their time (ids only), the cluster's credentials with whether their account is enabled, and its topics with
    whether their namespace is retired. The one query joining grants to principals, accounts, topics and
    namespaces cost PostgreSQL 150 ms of nested loops at 10,000 grants (20 ms now), most of a no-op run's
    database time."""
    usernames: dict[int, list[str]] = defaultdict(list)
    group_prefixes: dict[int, str] = {}
    users, new_users = set(), set()
    system_principals: dict[int, str] = {}
    enabled: set[int] = set()  # principals of an enabled account: their grants have effect
    credentials = (KafkaCredential.objects.filter(cluster=cluster).exclude(state=CredentialState.REMOVED)
                   .order_by().values_list("principal_id", "principal__name", "principal__system_role",
                                           "principal__user__is_active", "slot", "state"))
    for principal_id, principal_name, system_role, is_active, slot, state in credentials:
        username = f"{principal_name}.{slot}"
        usernames[principal_id].append(username)
        group_prefixes[principal_id] = f"{principal_name}."
        (new_users if state == CredentialState.PENDING else users).add(username)
        if system_role:
            system_principals[principal_id] = system_role
        if is_active:
            enabled.add(principal_id)
    topics = list(Topic.objects.filter(cluster=cluster).order_by()
                  .values_list("pk", "name", "namespace__lifecycle"))
    managed_topics = frozenset(name for _, name, _ in topics)
    live_topics = {pk: name for pk, name, lifecycle in topics if lifecycle != Lifecycle.RETIRED}

    acls: set[AclBinding] = set()
    holders: set[int] = set()
    grants = (Grant.objects.filter(topic__cluster=cluster, state=GrantState.ACTIVE, valid_from__lte=now,
                                   valid_until__gt=now).order_by().values_list("principal_id", "topic_id"))
    for principal_id, topic_id in grants:
        topic = live_topics.get(topic_id)
        if topic is None or principal_id not in enabled:
            continue
        for username in usernames[principal_id]:
            acls.update(read_bindings(username, topic))
        holders.add(principal_id)
    for principal_id, role_name in system_principals.items():
        role = system_roles.get(role_name)
        if role is None:  # its registration is gone: the reconciler retires its credentials first
            continue
        acls.update(role.bindings(cluster, frozenset(usernames[principal_id]), managed_topics))
        if role.consumer_groups:
            holders.add(principal_id)
    for principal_id in holders:
        for username in usernames.get(principal_id, ()):
            acls.add(group_binding(username, group_prefixes[principal_id]))
    return DesiredState(acls=frozenset(acls), users=frozenset(users), new_users=frozenset(new_users),
                        managed_topics=managed_topics)
