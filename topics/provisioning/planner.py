"""The provisioning planner: `plan = diff(desired, actual, owned)`, a pure function (and `simulate`, which tests
use to apply a plan to a state).

Desired state comes from the database (topics.provisioning.desired), actual state from the broker (the Kafka
adapter), and what Logwarden owns from its own records (topics.provisioning.ownership): the users and bindings
it created, stored when the broker confirmed them. What it deletes:
- its recorded users and bindings that are no longer desired;
- where the cluster enforces, any other ALLOW binding that lets a principal read a managed topic or join a
  managed consumer group (READ or ALL: drift), unless the principal is on the cluster's read allowlist.
Drift is reported whether or not it is removed. DENY bindings, WRITE bindings, cluster-level bindings and
users Logwarden did not create are never deleted; `u.`/`sa.` users' bindings it did not create are reported.
"""
from __future__ import annotations

from dataclasses import dataclass

from topics.kafka.types import AclBinding, Operation, PatternType, Permission, ResourceType
from topics.provisioning import system_roles

# every Kafka user Logwarden creates for people and service accounts starts with one of these; the prefix only says
# which bindings to report, never what to delete
MANAGED_USER_PREFIXES = ("u.", "sa.")
# consumer groups are Logwarden's under every principal's prefix, its own components' too (system principals:
# their users are not reported by prefix, since an existing shipper identity may well be named `shipper.…`)
MANAGED_GROUP_PREFIXES = (*MANAGED_USER_PREFIXES, *system_roles.NAME_PREFIXES)
_READS = frozenset({Operation.READ, Operation.ALL})


def is_managed_user(username: str) -> bool:
    return username.startswith(MANAGED_USER_PREFIXES)


def is_managed_principal(principal: str) -> bool:
    kind, _, name = principal.partition(":")
    return kind == "User" and is_managed_user(name)


@dataclass(frozen=True)
class DesiredState:
    acls: frozenset[AclBinding]
    users: frozenset[str]  # SCRAM users that must exist (their passwords were handed out already)
    new_users: frozenset[str]  # SCRAM users to create now, with passwords generated at creation
    managed_topics: frozenset[str]


@dataclass(frozen=True)
class ActualState:
    acls: frozenset[AclBinding]
    users: frozenset[str]


@dataclass(frozen=True)
class Owned:
    """What Logwarden recorded creating on the cluster."""

    acls: frozenset[AclBinding] = frozenset()
    users: frozenset[str] = frozenset()

    def __or__(self, other: Owned) -> Owned:
        return Owned(self.acls | other.acls, self.users | other.users)


@dataclass(frozen=True)
class Plan:
    create_users: tuple[str, ...] = ()
    create_acls: tuple[AclBinding, ...] = ()
    delete_acls: tuple[AclBinding, ...] = ()
    delete_users: tuple[str, ...] = ()
    # found, not necessarily acted on
    drift_acls: tuple[AclBinding, ...] = ()  # other principals allowed to read managed topics or groups
    unmanaged_acls: tuple[AclBinding, ...] = ()  # our users' bindings on resources Logwarden does not own
    missing_users: tuple[str, ...] = ()  # credentials gone from the broker: only a rotation can restore them
    unknown_users: tuple[str, ...] = ()  # users under our names that Logwarden did not create: left alone
    # bookkeeping, no broker write: desired objects found on the broker become recorded; records of objects
    # gone from the broker are dropped
    claim_acls: tuple[AclBinding, ...] = ()
    claim_users: tuple[str, ...] = ()
    forget_acls: tuple[AclBinding, ...] = ()
    forget_users: tuple[str, ...] = ()
    enforce: bool = True

    @property
    def writes(self) -> int:
        return len(self.create_users) + len(self.create_acls) + len(self.delete_acls) + len(self.delete_users)

    @property
    def empty(self) -> bool:
        return self.writes == 0

    def summary(self) -> dict[str, int]:
        return {"create_users": len(self.create_users), "create_acls": len(self.create_acls),
                "delete_acls": len(self.delete_acls), "delete_users": len(self.delete_users),
                "drift_acls": len(self.drift_acls), "unmanaged_acls": len(self.unmanaged_acls),
                "missing_users": len(self.missing_users), "unknown_users": len(self.unknown_users)}


def _group_reaches_managed(name: str, pattern: PatternType) -> bool:
    """Whether a GROUP binding covers some consumer group under a managed principal prefix."""
    managed = name.startswith(MANAGED_GROUP_PREFIXES)
    if pattern == PatternType.LITERAL:
        return name == "*" or managed
    # a prefix covers managed groups when it extends a managed prefix, or is itself the start of one
    return managed or any(prefix.startswith(name) for prefix in MANAGED_GROUP_PREFIXES)


def reaches_managed_resource(binding: AclBinding, managed_topics: frozenset[str]) -> bool:
    if binding.resource_type == ResourceType.TOPIC:
        if binding.pattern_type == PatternType.LITERAL:
            return binding.resource_name == "*" or binding.resource_name in managed_topics
        return any(topic.startswith(binding.resource_name) for topic in managed_topics)
    if binding.resource_type == ResourceType.GROUP:
        return _group_reaches_managed(binding.resource_name, binding.pattern_type)
    return False


def is_read_access(binding: AclBinding, managed_topics: frozenset[str]) -> bool:
    """Whether the binding lets its principal read a managed topic or join a managed consumer group."""
    return (binding.permission == Permission.ALLOW and binding.operation in _READS
            and reaches_managed_resource(binding, managed_topics))


def plan(desired: DesiredState, actual: ActualState, owned: Owned, *, enforce: bool,
         allowlist: frozenset[str] = frozenset()) -> Plan:
    topics = desired.managed_topics
    wanted_users = desired.users | desired.new_users
    # four passes over whole states, each set below built from them (a pass over tens of thousands of bindings
    # is most of a no-op run's planning, and these sets are small when little changed)
    undesired = actual.acls - desired.acls  # on the broker, not desired
    unplaced = desired.acls - actual.acls  # desired, not on the broker
    unrecorded = undesired - owned.acls  # neither desired nor recorded by Logwarden
    drift = sorted(b for b in unrecorded if is_read_access(b, topics))
    removable = {b for b in drift if b.principal not in allowlist} if enforce else set()
    return Plan(
        create_users=tuple(sorted(desired.new_users)),
        create_acls=tuple(sorted(unplaced)),
        delete_acls=tuple(sorted((undesired & owned.acls) | removable)),
        delete_users=tuple(sorted((owned.users & actual.users) - wanted_users)),
        drift_acls=tuple(drift),
        unmanaged_acls=tuple(sorted(b for b in unrecorded
                                    if is_managed_principal(b.principal) and not is_read_access(b, topics))),
        missing_users=tuple(sorted(desired.users - actual.users)),
        unknown_users=tuple(sorted(actual.users - owned.users - wanted_users)),
        claim_acls=tuple(sorted((desired.acls - owned.acls) - unplaced)),
        claim_users=tuple(sorted((desired.users & actual.users) - owned.users)),
        forget_acls=tuple(sorted(owned.acls - actual.acls)),
        forget_users=tuple(sorted(owned.users - actual.users)),
        enforce=enforce,
    )


def simulate(actual: ActualState, plan_: Plan) -> ActualState:
    """What the broker holds after `plan_` is applied to `actual` (for tests and dry runs)."""
    return ActualState(acls=frozenset((actual.acls - set(plan_.delete_acls)) | set(plan_.create_acls)),
                       users=frozenset((actual.users - set(plan_.delete_users)) | set(plan_.create_users)))


def render(plan_: Plan, cluster: str) -> str:
    """The plan as `terraform plan` shows one: a line per change, + create, - delete, ! found."""
    out = [f"cluster {cluster}:"]
    out += [f"  + scram user {u}" for u in plan_.create_users]
    out += [f"  + acl {describe_acl(b)}" for b in plan_.create_acls]
    out += [f"  - acl {describe_acl(b)}" for b in plan_.delete_acls]
    out += [f"  - scram user {u}" for u in plan_.delete_users]
    kept = "" if plan_.enforce else " (kept: cluster does not enforce)"
    out += [f"  ! drift: foreign acl {describe_acl(b)}{kept}" for b in plan_.drift_acls]
    out += [f"  ! not managed, left alone: acl {describe_acl(b)}" for b in plan_.unmanaged_acls]
    out += [f"  ! missing on broker: scram user {u} (rotate the credential to restore it)"
            for u in plan_.missing_users]
    out += [f"  ! not created by Logwarden, left alone: scram user {u}" for u in plan_.unknown_users]
    counts = plan_.summary()
    out.append(f"  plan: {counts['create_users']} user(s) and {counts['create_acls']} acl(s) to create, "
               f"{counts['delete_acls']} acl(s) and {counts['delete_users']} user(s) to delete")
    return "\n".join(out)


def describe_acl(b: AclBinding) -> str:
    return (f"{b.principal} {b.permission.value} {b.operation.value} {b.resource_type.value}:"
            f"{b.resource_name}{'*' if b.pattern_type == PatternType.PREFIXED else ''}")

