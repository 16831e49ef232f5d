"""Whether the broker shows a grant's last change yet, from the reconciler's own records (nothing asks the
broker here): the pages say "pending on the broker" until it does.

A grant's last change happened when it began (`valid_from`) or ended (`ended_at`). The broker shows it once a
run of the grant's cluster that started after it succeeded and no change of that cluster since is still in the
outbox (topics.queue); a grant that began needs its principal's credential made on the broker too.
"""
from __future__ import annotations

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, When
from django.db.models.functions import Now

from topics.models import BrokerChange, CredentialState, Grant, GrantState, KafkaCredential, ReconcileRun


def with_broker_state(grants: QuerySet[Grant]) -> QuerySet[Grant]:
    """`grants` annotated with `changed_at`, `credential_made` and `on_broker` (their last change is visible)."""
    credential_made = KafkaCredential.objects.filter(
        principal=OuterRef("principal"), cluster=OuterRef("topic__cluster"),
        state__in=[CredentialState.ACTIVE, CredentialState.RETIRING])
    reconciled = ReconcileRun.objects.filter(cluster=OuterRef("topic__cluster"), succeeded=True,
                                             started_at__gte=OuterRef("changed_at"))
    outstanding = BrokerChange.objects.filter(cluster=OuterRef("topic__cluster"), done_at__isnull=True,
                                              due_at__gte=OuterRef("changed_at"), due_at__lte=Now())
    return (grants.annotate(changed_at=Case(When(state=GrantState.ACTIVE, then=F("valid_from")),
                                            default=F("ended_at")))
            .annotate(credential_made=Exists(credential_made), reconciled=Exists(reconciled),
                      outstanding=Exists(outstanding))
            .annotate(on_broker=Q(reconciled=True) & Q(outstanding=False)
                      & (Q(credential_made=True) | ~Q(state=GrantState.ACTIVE))))
