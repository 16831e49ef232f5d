from django.urls import path

from topics.archive import views

urlpatterns = [
    path("", views.namespace_list, name="archive-namespaces"),
    path("<str:name>/", views.day_list, name="archive-days"),
    path("<str:name>/<str:day>/", views.file_list, name="archive-files"),
    path("<str:name>/<str:day>/<str:file>", views.download, name="archive-download"),
]
