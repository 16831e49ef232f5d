"""Creating and disabling service accounts."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import ServiceAccount, Team
from accounts.signals import service_account_active_changed
from portal.core import audit

USERNAME_PREFIX = "sa:"


def create(actor, *, name: str, team: Team, description: str = "") -> ServiceAccount:
    with transaction.atomic():
        user = get_user_model().objects.create(username=f"{USERNAME_PREFIX}{name}")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        account = ServiceAccount.objects.create(name=name, team=team, description=description, user=user,
                                                created_by=audit.Actor.of(actor).user)
        audit.record(actor, "service_account.create", account, team=team.slug, description=description)
    return account


def set_active(actor, account: ServiceAccount, active: bool) -> None:
    """Enables or disables an account. Receivers of `service_account_active_changed` act on it in the same
    transaction: topics takes its Kafka access away promptly (or restores it)."""
    if account.is_active == active:
        return
    with transaction.atomic():
        account.is_active = active
        account.save(update_fields=["is_active"])
        account.user.is_active = active
        account.user.save(update_fields=["is_active"])
        audit.record(actor, "service_account.enable" if active else "service_account.disable", account)
        service_account_active_changed.send(sender=ServiceAccount, account=account, active=active)
