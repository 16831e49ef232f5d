"""Routes of the catalogue API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from topics.catalogue.api import views

router = SimpleRouter()
router.register("clusters", views.KafkaClusterViewSet, basename="cluster")
router.register("retention-classes", views.RetentionClassViewSet, basename="retention-class")
router.register("namespaces", views.NamespaceViewSet, basename="namespace")
router.register("topics", views.TopicViewSet, basename="topic")

urlpatterns = router.urls
