"""The history pages (mounted at /history/)."""
from django.urls import path

from topics.history import views

urlpatterns = [
    path("", views.history_home, name="history"),
    path("namespaces/<str:name>/", views.namespace_point_in_time, name="history-namespace"),
    path("namespaces/<str:name>/timeline/", views.namespace_timeline, name="history-namespace-timeline"),
    path("namespaces/<str:name>/grants/", views.report_grants_over_time, name="history-grants-over-time"),
    # principal names have dots (u.alice, sa.payments-etl)
    path("principals/<str:name>/", views.principal_point_in_time, name="history-principal"),
    path("reports/expiring/", views.grant_report, {"report": "expiring"}, name="history-report-expiring"),
    path("reports/stale/", views.grant_report, {"report": "stale"}, name="history-report-stale"),
    path("reports/drift/", views.report_drift, name="history-report-drift"),
]
