"""Routes of the audit API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from topics.audit.api import views

router = SimpleRouter()
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
