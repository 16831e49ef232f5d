"""The one-time hand-off of a freshly generated Kafka password, from the reconciler to its single display.

The password is encrypted (Fernet, key derived from LOGWARDEN_HANDOFF_KEY) into a row that expires quickly and is
deleted by the read that decrypts it: the database never holds it in clear, and nobody reads it twice.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from topics.models import CredentialHandoff, CredentialState, KafkaCredential


class HandoffUnavailable(Exception):
    """Already read, expired, or never made: the password cannot be shown (again); rotate to get a new one."""


def _fernet() -> Fernet:
    key = hashlib.sha256(f"logwarden-credential-handoff:{settings.LOGWARDEN_HANDOFF_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def collect_until(credentials: Iterable[KafkaCredential]) -> dict[int, datetime]:
    """Until when each new password can be shown: LOGWARDEN_HANDOFF_HOURS, or to the end of the overlap
    window of the credential it replaces, whichever is later (a scheduled rotation waits for its holder)."""
    default = timezone.now() + timedelta(hours=settings.LOGWARDEN_HANDOFF_HOURS)
    credentials = list(credentials)
    retiring: dict[tuple[int, int], datetime] = {}
    for principal_id, cluster_id, retire_at in KafkaCredential.objects.filter(
            principal_id__in={c.principal_id for c in credentials}, cluster_id__in={c.cluster_id for c in credentials},
            state=CredentialState.RETIRING, retire_at__isnull=False).values_list("principal_id", "cluster_id",
                                                                                  "retire_at"):
        key = (principal_id, cluster_id)  # the credential replaced is the one on the same cluster
        retiring[key] = max(retire_at, retiring.get(key, retire_at))
    return {c.pk: max(default, retiring.get((c.principal_id, c.cluster_id), default)) for c in credentials}


def leave(passwords: Mapping[KafkaCredential, str]) -> None:
    """Stores each credential's new password, encrypted, replacing an uncollected older one."""
    fernet, until = _fernet(), collect_until(passwords)
    CredentialHandoff.objects.bulk_create(
        [CredentialHandoff(credential=credential, ciphertext=fernet.encrypt(password.encode()),
                           expires_at=until[credential.pk]) for credential, password in passwords.items()],
        update_conflicts=True, unique_fields=["credential"], update_fields=["ciphertext", "expires_at"])


def claim(credential: KafkaCredential) -> str:
    """Returns the password once: the row is gone afterwards."""
    with transaction.atomic():
        handoff = CredentialHandoff.objects.select_for_update().filter(credential=credential).first()
        if handoff is None:
            raise HandoffUnavailable(f"the password of {credential.username} was already shown or never made")
        handoff.delete()
    if handoff.expires_at <= timezone.now():
        raise HandoffUnavailable(f"the password of {credential.username} was not collected in time")
    try:
        return _fernet().decrypt(bytes(handoff.ciphertext)).decode()
    except InvalidToken:
        raise HandoffUnavailable(f"the password of {credential.username} cannot be decrypted "
                                 f"(LOGWARDEN_HANDOFF_KEY changed)") from None


def purge_expired() -> int:
    deleted, _ = CredentialHandoff.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
