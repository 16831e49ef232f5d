"""Catalogue changes that may change a fleet's routing (a namespace registered, retired or revived; a topic made
ready or removed) enqueue a routing refresh of every fleet once their transaction commits. The periodic check
refreshes too, for changes written without signals (bulk updates)."""
from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from topics.models import Namespace, Topic


@receiver([post_save, post_delete], sender=Namespace, dispatch_uid="shipper.fleet.namespace_changed")
@receiver([post_save, post_delete], sender=Topic, dispatch_uid="shipper.fleet.topic_changed")
def catalogue_changed(**_) -> None:
    from shipper import tasks

    transaction.on_commit(tasks.refresh_fleet_routing.delay)
