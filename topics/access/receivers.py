"""What topics does when accounts changes something it depends on (connected in TopicsConfig.ready)."""
from __future__ import annotations

from django.dispatch import receiver

from accounts.signals import person_active_changed, service_account_active_changed
from topics import queue
from topics.models import Grant, GrantState


def _reconcile_grants_of(user) -> None:
    """The grants of an inactive user are not live: a reconcile of every cluster where the user holds grants
    removes their ACLs (or, once enabled again, restores those of the grants still running)."""
    queue.reconcile(Grant.objects.filter(principal__user=user, state=GrantState.ACTIVE)
                    .values_list("topic__cluster_id", flat=True))


@receiver(service_account_active_changed, dispatch_uid="topics.access.service_account_active_changed")
def reconcile_account_grants(sender, *, account, active: bool, **kwargs) -> None:
    _reconcile_grants_of(account.user)


@receiver(person_active_changed, dispatch_uid="topics.access.person_active_changed")
def reconcile_person_grants(sender, *, user, active: bool, **kwargs) -> None:
    _reconcile_grants_of(user)
