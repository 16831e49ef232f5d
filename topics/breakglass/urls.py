"""Break-glass (mounted at /access/break-glass/)."""
from django.urls import path

from topics.breakglass import views

urlpatterns = [
    path("", views.use_list, name="breakglass-list"),
    path("report.<str:fmt>", views.use_report, name="breakglass-report"),
    path("new/", views.use_new, name="breakglass-new"),
    path("<int:pk>/", views.use_detail, name="breakglass-detail"),
    path("<int:pk>/review/", views.use_review, name="breakglass-review"),
]
