"""Kafka principals of people and service accounts, the principals someone acts for, and their first credential
on a cluster."""
from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from accounts.models import ServiceAccount
from portal.core import audit
from topics import policy
from topics.models import CredentialState, KafkaCluster, KafkaCredential, KafkaPrincipal

_PLAIN = re.compile(r"[A-Za-z0-9-]")


def escape_username(username: str) -> str:
    """A username as a dot-free, unambiguous name part: [A-Za-z0-9-] stay, '_' becomes '__', every other
    character '_' + two lowercase hex digits per UTF-8 byte ('john.smith' → 'john_2esmith').

    Principal names end in '.' in consumer-group prefixes and usernames (`<name>.a`): a dot inside the name
    would let one principal's prefix cover another's groups ('u.john.' covers 'u.john.smith.*')."""
    parts = []
    for char in username:
        if _PLAIN.fullmatch(char):
            parts.append(char)
        elif char == "_":
            parts.append("__")
        else:
            parts.append("".join(f"_{byte:02x}" for byte in char.encode()))
    return "".join(parts)


def principal_name(user) -> str:
    account = ServiceAccount.objects.filter(user=user).first()
    return f"sa.{account.name}" if account else f"u.{escape_username(user.get_username())}"


def principal_for(user) -> KafkaPrincipal:
    """The principal of a person or a service account's user, created on first use."""
    existing = KafkaPrincipal.objects.filter(user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            principal = KafkaPrincipal.objects.create(user=user, name=principal_name(user))
            audit.record(audit.SYSTEM, "principal.create", principal, user=user.get_username())
            return principal
    except IntegrityError:  # created concurrently
        return KafkaPrincipal.objects.get(user=user)


def requestable_principals(user) -> list[KafkaPrincipal]:
    """The principals `user` acts for: themself and their teams' active service accounts
    (topics.policy.requestable_users). They may request access for these, and their credential page lists them.

    Reads only (pages and API calls that list them are GETs): a principal not created yet is an unsaved instance
    (pk None) that principal_for creates when it is first used, by a request."""
    users = policy.requestable_users(user)
    existing = {principal.user_id: principal for principal in KafkaPrincipal.objects.filter(user__in=users)}
    return [existing.get(each.pk) or KafkaPrincipal(user=each, name=principal_name(each)) for each in users]


def requestable_principal(user, name: str) -> KafkaPrincipal | None:
    """The principal named `name` among those `user` acts for, created now if it was not yet (None: not theirs).
    For the POSTs that use it: a request names it."""
    found = next((principal for principal in requestable_principals(user) if principal.name == name), None)
    if found is None or found.pk is not None:
        return found
    return principal_for(found.user)


def ensure_credential(principal: KafkaPrincipal, cluster: KafkaCluster) -> KafkaCredential:
    """The principal's live credential on the cluster; a pending one (slot a) when it has none yet.

    The reconciler turns a pending credential into a SCRAM user with a freshly generated password. Concurrent
    callers for one principal (two approvals at once) serialise on the principal's row, so the second finds the
    first's credential instead of a second one in the same slot.
    """
    with transaction.atomic():
        KafkaPrincipal.objects.select_for_update().filter(pk=principal.pk).first()
        return _live_or_new_credential(principal, cluster)


def _live_or_new_credential(principal: KafkaPrincipal, cluster: KafkaCluster) -> KafkaCredential:
    live = (KafkaCredential.objects.filter(principal=principal, cluster=cluster)
            .exclude(state__in=[CredentialState.REMOVED, CredentialState.RETIRING]).order_by("created_at").first())
    if live is not None:
        return live
    used = set(KafkaCredential.objects.filter(principal=principal, cluster=cluster)
               .exclude(state=CredentialState.REMOVED).values_list("slot", flat=True))
    slot = "a" if "a" not in used else "b"
    credential = KafkaCredential.objects.create(principal=principal, cluster=cluster, slot=slot)
    audit.record(audit.SYSTEM, "credential.create", credential, cluster=cluster.name, slot=slot)
    return credential
