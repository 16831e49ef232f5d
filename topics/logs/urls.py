from django.urls import path

from topics.logs import views

urlpatterns = [
    path("<str:name>/logs/", views.namespace_logs, name="namespace-logs"),
]
