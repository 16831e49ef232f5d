"""My Kafka credentials and the reconcile status (mounted at /access/, next to topics.access.urls)."""
from django.urls import path

from topics.provisioning import views

urlpatterns = [
    path("credentials/", views.credential_list, name="access-credentials"),
    path("credentials/<int:pk>/password/", views.credential_password, name="access-credential-password"),
    path("credentials/<int:pk>/rotate/", views.credential_rotate, name="access-credential-rotate"),
    path("credentials/<int:pk>/config/<str:file_name>", views.credential_client_config,
         name="access-credential-config"),
    path("reconcile/", views.reconcile_status, name="access-reconcile"),
    path("reconcile/<str:cluster>/", views.reconcile_run, name="access-reconcile-run"),
]
