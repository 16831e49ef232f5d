"""Routes of the provisioning API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from topics.provisioning.api import views

router = SimpleRouter()
router.register("credentials", views.KafkaCredentialViewSet, basename="credential")
router.register("reconcile-runs", views.ReconcileRunViewSet, basename="reconcile-run")

urlpatterns = router.urls
