from django.urls import path

from topics.catalogue import views

urlpatterns = [
    path("", views.namespace_list, name="namespace-list"),
    path("<str:name>/", views.namespace_detail, name="namespace-detail"),
    path("<str:name>/confirm-owner/", views.namespace_confirm_owner, name="namespace-confirm-owner"),
]
