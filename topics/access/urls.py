"""Requests, approvals, grants and principals (mounted at /access/, next to topics.provisioning.urls)."""
from django.urls import path

from topics.access import views
from topics.models import GrantState

urlpatterns = [
    path("requests/", views.request_list, name="access-request-list"),
    path("requests/new/", views.request_new, name="access-request-new"),
    path("requests/<int:pk>/", views.request_detail, name="access-request-detail"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="access-request-withdraw"),
    path("approvals/", views.approval_queue, name="access-approvals"),
    path("approvals/<int:pk>/", views.approval_decide, name="access-approval-decide"),
    path("grants/", views.grant_list, name="access-grant-list"),
    path("grants/<int:pk>/revoke/", views.grant_end, {"how": GrantState.REVOKED}, name="access-grant-revoke"),
    path("grants/<int:pk>/release/", views.grant_end, {"how": GrantState.RELEASED}, name="access-grant-release"),
    # principal names have dots (u.alice, sa.payments-etl)
    path("principals/<str:name>/", views.principal_detail, name="access-principal-detail"),
]
