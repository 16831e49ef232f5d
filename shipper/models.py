"""Models of the shipper app (Django finds them here)."""
from shipper.fleet.models import Fleet, FleetRevision, Flavour, LogAccess, Unrouted

__all__ = ["Fleet", "FleetRevision", "Flavour", "LogAccess", "Unrouted"]
