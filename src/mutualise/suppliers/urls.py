from django.urls import path

from mutualise.suppliers import views

app_name = "suppliers"

urlpatterns = [
    path("review/", views.review_queue, name="review-queue"),
    path("review/<str:mention_key>/", views.review_item, name="review-item"),
    path("organisation/<str:identifier>/", views.supplier_detail, name="detail"),
]
