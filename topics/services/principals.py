"""Kafka principals of people and service accounts, and their first credential on a cluster."""
from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import ServiceAccount
from portal import audit
from topics.models import CredentialState, KafkaCluster, KafkaCredential, KafkaPrincipal


def principal_name(user) -> str:
    account = ServiceAccount.objects.filter(user=user).first()
    return f"sa.{account.name}" if account else f"u.{user.get_username()}"


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


def ensure_credential(principal: KafkaPrincipal, cluster: KafkaCluster) -> KafkaCredential:
    """The principal's live credential on the cluster; a pending one (slot a) when it has none yet.

    The reconciler turns a pending credential into a SCRAM user with a freshly generated password.
    """
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
