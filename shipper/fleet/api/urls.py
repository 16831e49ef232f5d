"""Routes of the fleet API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from shipper.fleet.api import views

router = SimpleRouter()
router.register("fleets", views.FleetViewSet, basename="fleet")
router.register("fleet-revisions", views.FleetRevisionViewSet, basename="fleet-revision")

urlpatterns = router.urls
