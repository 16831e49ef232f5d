"""Access reviews (mounted at /access/reviews/)."""
from django.urls import path

from topics.reviews import views

urlpatterns = [
    path("", views.review_queue, name="reviews-queue"),
    path("<int:pk>/decide/", views.review_decide, name="reviews-decide"),
    path("campaigns/", views.campaign_list, name="reviews-campaign-list"),
    path("campaigns/progress.<str:fmt>", views.progress_report, name="reviews-progress-report"),
    path("campaigns/new/", views.campaign_new, name="reviews-campaign-new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="reviews-campaign-detail"),
    path("campaigns/<int:pk>/report.<str:fmt>", views.campaign_report, name="reviews-campaign-report"),
]
