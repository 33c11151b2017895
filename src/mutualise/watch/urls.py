from django.urls import path

from mutualise.watch import views

app_name = "watch"
urlpatterns = [
    path("", views.index, name="index"),
    path("organisations/<int:pk>/", views.timeline, name="timeline"),
    path("reservation-check/", views.reservation_check, name="reservation-check"),
    path("missed-reservations/", views.missed_reservations, name="missed-reservations"),
]
