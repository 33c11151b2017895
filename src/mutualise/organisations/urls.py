from django.urls import path

from mutualise.organisations import views

app_name = "organisations"
urlpatterns = [
    path("", views.organisation_list, name="list"),
    path("new/staff-group/", views.new_staff_group, name="new-staff-group"),
    path("new/public-body/", views.new_public_body, name="new-public-body"),
    path("<int:pk>/", views.organisation_detail, name="detail"),
    path("<int:pk>/edit/", views.organisation_edit, name="edit"),
    path("<int:pk>/activity/", views.activity, name="activity"),
    path("<int:pk>/identifiers/add/", views.add_identifier, name="add-identifier"),
    path(
        "<int:pk>/identifiers/<int:identifier_pk>/remove/",
        views.remove_identifier,
        name="remove-identifier",
    ),
]
