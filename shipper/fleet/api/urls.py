"""Routes of the fleet API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from shipper.fleet.api import views

router = SimpleRouter()
router.register("fleets", views.FleetViewSet, basename="fleet")
router.register("fleet-revisions", views.FleetRevisionViewSet, basename="fleet-revision")
router.register("canary-nodes", views.CanaryNodeViewSet, basename="canary-node")

urlpatterns = router.urls
