"""The API root, /api/: the apps' routes and the audit trail, behind one browsable index."""
from rest_framework.routers import DefaultRouter

from accounts.api.urls import router as accounts_router
from portal.api.audit import AuditEventViewSet
from topics.api.access_urls import router as access_router
from topics.api.urls import router as topics_router

app_name = "api"  # URL names such as api:namespace-detail, apart from the web pages' names

router = DefaultRouter()
router.include_format_suffixes = False  # names in URLs may contain dots; use ?format= instead
router.registry.extend(accounts_router.registry)
router.registry.extend(topics_router.registry)
router.registry.extend(access_router.registry)
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
