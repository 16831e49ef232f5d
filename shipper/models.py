"""Models of the shipper app (Django finds them here)."""
from shipper.fleet.models import CanaryNode, Fleet, FleetRevision, Flavour, LogAccess, Unrouted

__all__ = ["CanaryNode", "Fleet", "FleetRevision", "Flavour", "LogAccess", "Unrouted"]
