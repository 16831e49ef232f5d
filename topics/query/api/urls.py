"""Routes of the query API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from topics.query.api import views

router = SimpleRouter()
router.register("query", views.QueryViewSet, basename="query")

urlpatterns = router.urls
