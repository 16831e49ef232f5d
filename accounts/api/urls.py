"""Routes of the identity API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from accounts.api import views
from accounts.models import DNS_LABEL
from portal.api.support import in_url

router = SimpleRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("group-mappings", views.GroupMappingViewSet, basename="group-mapping")
router.register("service-accounts", views.ServiceAccountViewSet, basename="service-account")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register(fr"service-accounts/(?P<service_account_name>{in_url(DNS_LABEL)})/tokens", views.ApiTokenViewSet,
                basename="service-account-token")

urlpatterns = router.urls
