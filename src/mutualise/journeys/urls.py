from django.urls import path

from mutualise.journeys import views

app_name = "journeys"
urlpatterns = [
    path("", views.pipeline, name="pipeline"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
]
