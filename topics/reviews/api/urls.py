"""Routes of the access-review API (mounted under /api/ by portal.api.urls)."""
from rest_framework.routers import SimpleRouter

from topics.reviews.api import views

router = SimpleRouter()
router.register("review-campaigns", views.ReviewCampaignViewSet, basename="review-campaign")
router.register("review-items", views.ReviewItemViewSet, basename="review-item")
router.register("review-queue", views.ReviewQueueViewSet, basename="review-queue")

urlpatterns = router.urls
