"""The query page over the archive (mounted at /query/)."""
from django.urls import path

from topics.query import views

urlpatterns = [
    path("", views.query_page, name="query"),
    path("download/<str:format_>/", views.query_download, name="query-download"),
]
