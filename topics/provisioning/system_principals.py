"""System principals: the broker identities of Logwarden's own components (`shipper.<fleet>`, `portal.reader`,
`portal.archiver`), provisioned by the one reconciler like every other principal.

A system principal has no user; its role (topics.provisioning.system_roles, registered by the app that needs it)
says which ACL bindings it gets on each cluster. It has the same two-slot credentials and rotation as a person's,
but nobody is shown its password: the reconciler generates it when it creates the SCRAM user and keeps it here,
encrypted with its own key (LOGWARDEN_SYSTEM_CREDENTIAL_KEY), because the portal itself connects with it
(`connection`, `client_settings`). Nothing here logs, audits or raises a password.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.core import audit
from topics import queue
from topics.catalogue.clusters import connection_for
from topics.kafka.adapter import KafkaConnection
from topics.models import CredentialState, KafkaCluster, KafkaCredential, KafkaPrincipal, SystemCredentialSecret
from topics.provisioning import credentials, system_roles
from topics.provisioning.principals import ensure_credential


class SystemCredentialUnavailable(Exception):
    """The system principal has no usable credential on the cluster (yet): not ensured, or not reconciled."""


def _fernet() -> Fernet:
    key = hashlib.sha256(f"logwarden-system-credential:{settings.LOGWARDEN_SYSTEM_CREDENTIAL_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def ensure(name: str, role: str, cluster: KafkaCluster) -> KafkaPrincipal:
    """The system principal `name` of a registered `role` with a live credential on the cluster: created (with a
    pending credential, audited) when missing, and a reconcile of the cluster queued after commit. Idempotent."""
    if not system_roles.NAME.match(name):
        raise ValidationError({"name": [f"A system principal's name is {' or '.join(system_roles.NAME_PREFIXES)} "
                                        f"followed by lowercase letters, digits and '-' (at most 63), not {name!r}."]})
    if system_roles.get(role) is None:
        raise ValidationError({"role": [f"No system role {role!r} is registered."]})
    with transaction.atomic():
        principal = _principal(name, role)
        if principal.system_role != role:
            raise ValidationError({"name": [f"{name} is already the principal of "
                                            f"{principal.system_role or 'a user'}, not of role {role}."]})
        credential = ensure_credential(principal, cluster)
        if credential.state == CredentialState.PENDING:
            queue.reconcile([cluster.pk])
    return principal


def _principal(name: str, role: str) -> KafkaPrincipal:
    existing = KafkaPrincipal.objects.filter(name=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            principal = KafkaPrincipal.objects.create(name=name, system_role=role)
            audit.record(audit.SYSTEM, "principal.create", principal, system_role=role)
            return principal
    except IntegrityError:  # created concurrently
        return KafkaPrincipal.objects.get(name=name)


def keep(passwords: Mapping[KafkaCredential, str]) -> None:
    """Stores the new passwords of system credentials, encrypted (the reconciler, when it created their users)."""
    fernet = _fernet()
    SystemCredentialSecret.objects.bulk_create(
        [SystemCredentialSecret(credential=credential, ciphertext=fernet.encrypt(password.encode()))
         for credential, password in passwords.items()],
        update_conflicts=True, unique_fields=["credential"], update_fields=["ciphertext"])


def current_credential(name: str, cluster: KafkaCluster) -> KafkaCredential:
    """The credential to connect with: the newest active one (during a rotation, the new slot once the reconciler
    made it), else the one still retiring."""
    live = (KafkaCredential.objects.filter(principal__name=name, principal__user__isnull=True, cluster=cluster,
                                           state__in=[CredentialState.ACTIVE, CredentialState.RETIRING])
            .select_related("principal", "cluster", "system_secret"))
    ranked = sorted(live, key=lambda c: (c.state == CredentialState.ACTIVE, c.activated_at or c.created_at))
    if not ranked:
        raise SystemCredentialUnavailable(f"system principal {name} has no credential on cluster {cluster.name} "
                                          f"yet: ensure it, then let the reconciler create it")
    return ranked[-1]


def connection(name: str, cluster: KafkaCluster) -> KafkaConnection:
    """The adapter's connection to the cluster as the system principal (its password never in repr())."""
    credential = current_credential(name, cluster)
    try:
        ciphertext = bytes(credential.system_secret.ciphertext)
    except SystemCredentialSecret.DoesNotExist:
        raise SystemCredentialUnavailable(f"the password of {credential.username} is not kept") from None
    try:
        password = _fernet().decrypt(ciphertext).decode()
    except InvalidToken:
        raise SystemCredentialUnavailable(f"the password of {credential.username} cannot be decrypted "
                                          f"(LOGWARDEN_SYSTEM_CREDENTIAL_KEY changed: rotate it)") from None
    return connection_for(cluster).as_user(credential.username, password)


def client_settings(name: str, cluster: KafkaCluster) -> dict[str, Any]:
    """librdkafka settings (bootstrap, SASL/SCRAM, username, password) for the adapter's clients. Never log them."""
    return connection(name, cluster).client_config()


def rotate(name: str, cluster: KafkaCluster, *, overlap: timedelta) -> KafkaCredential:
    """Starts a rotation (audited, by the system): the other slot's user is made at the next reconcile and
    `connection` moves to it; the current one keeps working for `overlap`, then the reconciler removes it."""
    principal = KafkaPrincipal.objects.get(name=name, user__isnull=True)
    return credentials.rotate(audit.SYSTEM, principal, cluster, overlap=overlap, trigger="system")


def retire_unregistered(cluster: KafkaCluster, now: datetime) -> list[audit.Entry]:
    """Ends the live credentials of system principals whose role is no longer registered, with their kept
    passwords: the planner then removes their users and bindings from the broker. The reconciler's step."""
    orphaned = [credential for credential in KafkaCredential.objects.select_for_update()
                .filter(cluster=cluster, principal__user__isnull=True).exclude(state=CredentialState.REMOVED)
                .select_related("principal") if system_roles.get(credential.principal.system_role) is None]
    KafkaCredential.objects.filter(pk__in=[c.pk for c in orphaned]).update(state=CredentialState.REMOVED,
                                                                        removed_at=now)
    SystemCredentialSecret.objects.filter(credential__in=orphaned).delete()
    return [audit.Entry("credential.remove", "topics.kafkacredential", str(c.pk), c.username,
                        {"reason": f"system role {c.principal.system_role} is not registered",
                         "cluster": cluster.name})
            for c in orphaned]
