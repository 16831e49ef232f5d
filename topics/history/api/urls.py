"""Routes of the history API (mounted under /api/ by portal.api.urls)."""
from django.urls import path

from topics.history.api import views

urlpatterns = [
    path("history/namespaces/<str:name>/access/", views.NamespaceAccessView.as_view(),
         name="history-namespace-access"),
    path("history/namespaces/<str:name>/timeline/", views.NamespaceTimelineView.as_view(),
         name="history-namespace-timeline"),
    path("history/namespaces/<str:name>/grants-per-day/", views.GrantsPerDayView.as_view(),
         name="history-grants-per-day"),
    path("history/principals/<str:name>/access/", views.PrincipalAccessView.as_view(),
         name="history-principal-access"),
    path("history/reports/expiring/", views.ExpiringView.as_view(), name="history-report-expiring"),
    path("history/reports/stale/", views.StaleView.as_view(), name="history-report-stale"),
    path("history/reports/drift/", views.DriftView.as_view(), name="history-report-drift"),
]
