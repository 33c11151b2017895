from django.urls import path

from mutualise.journeys import views

app_name = "journeys"
urlpatterns = [
    path("", views.pipeline, name="pipeline"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/evidence/", views.evidence, name="evidence"),
    path("<int:pk>/readiness/", views.readiness_overview, name="readiness"),
    path("<int:pk>/readiness/start/", views.readiness_start, name="readiness-start"),
    path(
        "<int:pk>/readiness/<int:assessment_pk>/questions/<slug:question_code>/",
        views.readiness_question,
        name="readiness-question",
    ),
    path(
        "<int:pk>/readiness/<int:assessment_pk>/check/",
        views.readiness_check,
        name="readiness-check",
    ),
    path(
        "<int:pk>/readiness/<int:assessment_pk>/",
        views.readiness_result,
        name="readiness-result",
    ),
]
