"""Routes of the logs API (mounted under /api/ by portal.api.urls), under each namespace."""
from django.urls import path

from topics.logs.api import views

urlpatterns = [
    path("namespaces/<str:name>/logs/", views.NamespaceLogsView.as_view(), name="namespace-logs"),
    path("namespaces/<str:name>/logs/download/", views.NamespaceLogsDownloadView.as_view(),
         name="namespace-logs-download"),
    path("namespaces/<str:name>/logs/follow/", views.NamespaceLogsFollowView.as_view(), name="namespace-logs-follow"),
]
