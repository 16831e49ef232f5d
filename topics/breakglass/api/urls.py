"""Routes of the break-glass API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from topics.breakglass.api import views

router = SimpleRouter()
router.register("break-glass", views.BreakGlassUseViewSet, basename="break-glass")

urlpatterns = router.urls
