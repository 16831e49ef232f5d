"""Routes of the access API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from topics.access.api import views

router = SimpleRouter()
router.register("principals", views.PrincipalViewSet, basename="principal")
router.register("access-requests", views.AccessRequestViewSet, basename="access-request")
router.register("approvals", views.ApprovalQueueViewSet, basename="approval")
router.register("request-items", views.RequestItemViewSet, basename="request-item")
router.register("grants", views.GrantViewSet, basename="grant")

urlpatterns = router.urls
