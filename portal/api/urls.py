"""The API root, /api/: every app's routes behind one browsable index (with portal.urls, the composition
root: the only modules that wire the apps together)."""
from rest_framework.routers import DefaultRouter

from accounts.api.urls import router as accounts_router
from shipper.fleet.api.urls import router as fleet_router
from topics.access.api.urls import router as access_router
from topics.archive.api.urls import router as archive_router
from topics.audit.api.urls import router as audit_router
from topics.breakglass.api.urls import router as breakglass_router
from topics.catalogue.api.urls import router as catalogue_router
from topics.history.api.urls import urlpatterns as history_urls
from topics.logs.api.urls import urlpatterns as logs_urls
from topics.provisioning.api.urls import router as provisioning_router
from topics.query.api.urls import router as query_router
from topics.reviews.api.urls import router as reviews_router

app_name = "api"  # URL names such as api:namespace-detail, apart from the web pages' names

router = DefaultRouter()
router.include_format_suffixes = False  # names in URLs may contain dots; use ?format= instead
for app_router in (accounts_router, catalogue_router, access_router, reviews_router, breakglass_router,
                   provisioning_router, audit_router, query_router, archive_router, fleet_router):
    router.registry.extend(app_router.registry)

# the logs are read under each namespace, beside its routes; the history's answers are lists of their own
urlpatterns = logs_urls + history_urls + router.urls
