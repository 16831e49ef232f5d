from django.urls import path

from shipper.fleet import views

urlpatterns = [
    path("", views.fleet_list, name="fleet-list"),
    path("<str:name>/", views.fleet_detail, name="fleet-detail"),
    path("<str:name>/rotate-credential/", views.rotate_credential, name="fleet-rotate-credential"),
    path("<str:name>/revisions/<int:number>/", views.revision_detail, name="fleet-revision"),
    path("<str:name>/revisions/<int:number>/apply/", views.revision_apply, name="fleet-revision-apply"),
    path("<str:name>/revisions/<int:number>/rollback/", views.revision_rollback, name="fleet-revision-rollback"),
]
