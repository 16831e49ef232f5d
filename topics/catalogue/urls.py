from django.urls import path

from topics.catalogue import views

urlpatterns = [
    path("", views.namespace_list, name="namespace-list"),
    path("<str:name>/", views.namespace_detail, name="namespace-detail"),
]
