"""Routes of the archive API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from topics.archive.api import views

router = SimpleRouter()
router.register("archive", views.ArchiveViewSet, basename="archive")

urlpatterns = router.urls
