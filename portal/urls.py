from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health_page, name="health"),
    path("accounts/", include("accounts.urls")),
    path("namespaces/", include("topics.urls")),
    path("teams/", include("accounts.urls_teams")),
    path("access/", include("topics.urls_access")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("portal.api.urls")),
]
