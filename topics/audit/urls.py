"""The audit pages (mounted at /audit/)."""
from django.urls import path

from topics.audit import views

urlpatterns = [
    path("", views.event_list, name="audit-events"),
    path("download.<str:fmt>", views.event_download, name="audit-events-download"),
    path("verification/", views.verification, name="audit-verification"),
]
