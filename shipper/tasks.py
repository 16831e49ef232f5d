"""Celery tasks of the shipper app: thin wrappers around its services."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from shipper.canary import services as canaries
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


@shared_task(name="shipper.read_canaries", acks_late=True)
def read_canaries() -> dict:
    """Each fleet's canary records since the last read: its nodes' last lines, delays and lost lines."""
    return canaries.read_all()


@shared_task(name="shipper.check_fleets", acks_late=True)
def check_fleets() -> dict:
    """The periodic pass: routing refreshed, each applied fleet compared with its cluster objects, and the
    canaries read."""
    report = {name: {"revision": number} for name, number in refresh_fleet_routing().items()}
    if settings.KUBECONFIG:
        for fleet in Fleet.objects.exclude(live_revision=None).select_related("kafka_cluster", "live_revision"):
            report.setdefault(fleet.name, {})["drift"] = fleets.check_drift(fleet)
    for name, read in read_canaries().items():
        report.setdefault(name, {})["canary"] = read
    return report
