"""Sign-in, and the teams with their service accounts, tokens and group mappings."""
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views
from accounts.forms import SignInForm

team_patterns = [
    path("", views.team_list, name="team-list"),
    # before <slug>/, which would otherwise take "mappings" for a team
    path("mappings/", views.mapping_list, name="mapping-list"),
    path("mappings/<int:pk>/delete/", views.mapping_delete, name="mapping-delete"),
    path("<slug:slug>/", views.team_detail, name="team-detail"),
    path("<slug:slug>/service-accounts/", views.service_account_create, name="service-account-create"),
    path("<slug:slug>/service-accounts/<slug:account>/tokens/", views.token_issue, name="token-issue"),
    path("<slug:slug>/tokens/<slug:prefix>/revoke/", views.token_revoke, name="token-revoke"),
]

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(template_name="accounts/login.html",
                                                            authentication_form=SignInForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("teams/", include(team_patterns)),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
]
