"""Builders of rows for tests: a small world of teams, people and namespaces; topics, requests and approvals."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import GroupMapping, Role, ServiceAccount, Team
from accounts.services import service_accounts, tokens
from portal.core.audit import SYSTEM
from topics.access import services as access
from topics.catalogue.clusters import default_cluster
from topics.models import (AccessRequest, CredentialState, Grant, KafkaCluster, KafkaCredential, Namespace,
                           RetentionClass, SensitivityPolicy, Topic)
from topics.provisioning import handoff
from topics.provisioning.principals import principal_for


def person(username: str, *ldap_groups: str, superuser: bool = False):
    user = get_user_model().objects.create_user(username, email=f"{username}@logwarden.test",
                                                first_name=username.title(), is_superuser=superuser,
                                                is_staff=superuser)
    user.set_unusable_password()
    user.save()
    for name in ldap_groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@dataclass
class World:
    payments: Team
    checkout: Team
    engineer: object  # alice, team payments
    owner: object  # bob, owner in team payments
    auditor: object  # carol
    admin: object  # dave, platform admin through the LDAP admin group
    outsider: object  # erin, team checkout
    service_account: ServiceAccount  # payments' program
    token: str  # the service account's API token
    ns_payments: Namespace
    ns_checkout: Namespace

    def user_for(self, role: str):
        return {"engineer": self.engineer, "owner": self.owner, "auditor": self.auditor, "admin": self.admin,
                "outsider": self.outsider, "service_account": self.service_account.user}[role]


# level: (approvals, longest grant, longest credential life), as the data migration topics/0004 makes them
DEFAULT_POLICIES = {"low": (1, 90, 180), "standard": (1, 30, 90), "high": (2, 14, 30), "restricted": (2, 7, 30)}


def default_policies() -> None:
    """The sensitivity policies the data migration makes (transactional tests flush them; a level without one
    fails closed)."""
    for level, (approvals, grant_days, credential_days) in DEFAULT_POLICIES.items():
        SensitivityPolicy.objects.get_or_create(level=level, defaults={
            "approvals_required": approvals, "max_grant_days": grant_days, "max_credential_age_days": credential_days})


def standard_retention_class() -> RetentionClass:
    """The default retention class the data migration makes (transactional tests flush it)."""
    return RetentionClass.objects.get_or_create(name="standard", defaults={"retention_ms": 7 * 86_400_000})[0]


def build_world() -> World:
    payments = Team.objects.create(slug="payments", name="Payments")
    checkout = Team.objects.create(slug="checkout", name="Checkout")
    GroupMapping.objects.create(ldap_group="team-payments", team=payments)
    GroupMapping.objects.create(ldap_group="team-checkout", team=checkout)
    GroupMapping.objects.create(ldap_group="logwarden-owners", role=Role.NAMESPACE_OWNER)
    GroupMapping.objects.create(ldap_group="logwarden-auditors", role=Role.AUDITOR)
    GroupMapping.objects.create(ldap_group="logwarden-admins", role=Role.PLATFORM_ADMIN)
    account = service_accounts.create(SYSTEM, name="payments-etl", team=payments)
    issued = tokens.issue(SYSTEM, account, name="ci", expires_at=None)
    # transactional tests flush the rows the data migrations made: recreate what the world needs
    standard = standard_retention_class()
    default_policies()
    return World(
        payments=payments, checkout=checkout,
        engineer=person("alice", "team-payments"),
        owner=person("bob", "team-payments", "logwarden-owners"),
        auditor=person("carol", "logwarden-auditors"),
        admin=person("dave", "logwarden-admins"),
        outsider=person("erin", "team-checkout"),
        service_account=account, token=issued.secret,
        ns_payments=Namespace.objects.create(name="payments", owner_team=payments, retention_class=standard),
        ns_checkout=Namespace.objects.create(name="checkout", owner_team=checkout, retention_class=standard,
                                             sensitivity="high"),
    )


def checkout_owners() -> list:
    """olga and oscar, owners in team checkout: the two approvers its highly sensitive namespaces need."""
    return [person(username, "team-checkout", "logwarden-owners") for username in ("olga", "oscar")]


def topic_of(namespace: Namespace, cluster: KafkaCluster | None = None) -> Topic:
    """A topic row for the namespace on `cluster` (by default the default one); no broker is touched."""
    cluster = cluster or default_cluster()
    return Topic.objects.create(namespace=namespace, cluster=cluster, name=cluster.topic_name_for(namespace.name))


def ask(world: World, *namespaces: Namespace, principal_user=None, requester=None, days: int = 7,
        reason: str = "debug a failing payment") -> AccessRequest:
    """An access request by `requester` (alice unless said) for `principal_user`'s principal (the requester's
    own unless said) on the namespaces."""
    requester = requester or world.engineer
    return access.create_request(requester, principal=principal_for(principal_user or requester),
                                 namespaces=list(namespaces), reason=reason, duration_days=days)


def approve(world: World, access_request: AccessRequest, comment: str = "ok for a week", *,
            namespace: Namespace | None = None) -> Grant:
    """bob approves the request's item (the one on `namespace` when it has several); the grant it made."""
    item = access_request.items.get(**({"namespace": namespace} if namespace else {}))
    access.decide(world.owner, item, "approve", comment)
    return Grant.objects.get(request_item=item)


def activate(credential: KafkaCredential, *, age_days: int = 0, password: str | None = None) -> KafkaCredential:
    """The state the reconciler leaves once it has created the credential's SCRAM user: active (since
    `age_days` ago) and, given a password, that password waiting in its hand-off. No broker is touched."""
    KafkaCredential.objects.filter(pk=credential.pk).update(
        state=CredentialState.ACTIVE, activated_at=timezone.now() - timedelta(days=age_days))
    if password is not None:
        handoff.leave({credential: password})
    credential.refresh_from_db()
    return credential
