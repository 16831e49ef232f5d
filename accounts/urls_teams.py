"""Teams, their service accounts and tokens, and the group mappings (mounted at /teams/)."""
from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.team_list, name="team-list"),
    # before <slug>/, which would otherwise take "mappings" for a team
    path("mappings/", views.mapping_list, name="mapping-list"),
    path("mappings/<int:pk>/delete/", views.mapping_delete, name="mapping-delete"),
    path("<slug:slug>/", views.team_detail, name="team-detail"),
    path("<slug:slug>/service-accounts/", views.service_account_create, name="service-account-create"),
    path("<slug:slug>/service-accounts/<slug:account>/tokens/", views.token_issue, name="token-issue"),
    path("<slug:slug>/tokens/<slug:prefix>/revoke/", views.token_revoke, name="token-revoke"),
]
