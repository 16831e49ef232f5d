"""Routes of the identity API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("group-mappings", views.GroupMappingViewSet, basename="group-mapping")
router.register("service-accounts", views.ServiceAccountViewSet, basename="service-account")
router.register(r"service-accounts/(?P<service_account_name>[^/.]+)/tokens", views.ApiTokenViewSet,
                basename="service-account-token")

urlpatterns = router.urls
