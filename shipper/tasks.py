"""Celery tasks of the shipper app: thin wrappers around its services."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from shipper.discovery import services as discovery
from shipper.fleet import services as fleets
from shipper.fleet.models import Fleet


@shared_task(name="shipper.discover_namespaces", acks_late=True)
def discover_namespaces() -> dict:
    return discovery.discover_from_kubernetes()


@shared_task(name="shipper.refresh_fleet_routing", acks_late=True)
def refresh_fleet_routing() -> dict:
    """A revision for each fleet whose routing the catalogue changed (applied where the fleet enforces)."""
    return {fleet.name: fleets.refresh_and_enforce(fleet) for fleet in Fleet.objects.select_related("kafka_cluster")}


@shared_task(name="shipper.check_fleets", acks_late=True)
def check_fleets() -> dict:
    """The periodic pass: routing refreshed, then each applied fleet compared with its cluster objects."""
    report = refresh_fleet_routing()
    if settings.KUBECONFIG:
        for fleet in Fleet.objects.exclude(live_revision=None).select_related("kafka_cluster", "live_revision"):
            report[fleet.name] = {"revision": report[fleet.name], "drift": fleets.check_drift(fleet)}
    return report
