from django.urls import path

from mutualise.ambassadors import views

app_name = "ambassadors"
urlpatterns = [
    path("", views.index, name="index"),
    path("run/", views.run_matching, name="run-matching"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/confirm/", views.confirm_run, name="confirm-run"),
    path("pairs/", views.pair_rule, name="pair-rule"),
    path("pairs/<int:pk>/remove/", views.remove_pair_rule, name="remove-pair-rule"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("matches/<int:pk>/", views.match_detail, name="match"),
    path("matches/<int:pk>/accept/", views.accept_match, name="accept"),
    path("matches/<int:pk>/decline/", views.decline_match, name="decline"),
    path("matches/<int:pk>/withdraw/", views.withdraw_match, name="withdraw"),
    path("matches/<int:pk>/end/", views.end_match, name="end"),
    path("matches/<int:pk>/engagements/new/", views.log_engagement, name="log-engagement"),
    path("engagements/<int:pk>/follow-up-done/", views.follow_up_done, name="follow-up-done"),
    path("engagements/<int:pk>/rate/", views.rate_engagement, name="rate"),
    path("profile/", views.profile_edit, name="profile"),
    path("profile/away/", views.away_add, name="away-add"),
    path("profile/away/<int:pk>/remove/", views.away_remove, name="away-remove"),
    path("groups/<int:organisation_id>/", views.group_page, name="group"),
    path("groups/<int:organisation_id>/request/", views.request_ambassador, name="request"),
]
