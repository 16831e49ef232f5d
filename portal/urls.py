"""The composition root of the web: the only module that mounts the apps' pages and APIs together."""
from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal.web import views
from topics.catalogue import views as catalogue_views

urlpatterns = [
    path("", catalogue_views.home, name="home"),
    path("health/", views.health_page, name="health"),
    path("", include("accounts.urls")),  # accounts/login/, accounts/logout/, teams/…
    path("namespaces/", include("topics.catalogue.urls")),
    path("namespaces/", include("topics.logs.urls")),
    path("access/reviews/", include("topics.reviews.urls")),
    path("access/break-glass/", include("topics.breakglass.urls")),
    path("access/", include("topics.access.urls")),
    path("access/", include("topics.provisioning.urls")),
    path("query/", include("topics.query.urls")),
    path("fleets/", include("shipper.fleet.urls")),
    path("archive/", include("topics.archive.urls")),
    path("history/", include("topics.history.urls")),
    path("audit/", include("topics.audit.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("portal.api.urls")),
]

handler500 = "portal.web.views.server_error"
# development only (DEBUG): the ASGI server does not serve static files as runserver did; production serves
# `collectstatic`'s directory from the proxy in front
urlpatterns += staticfiles_urlpatterns()
