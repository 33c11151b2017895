from django.urls import path

from mutualise.fund import views

app_name = "fund"
urlpatterns = [
    path("", views.home, name="home"),
    path("funds/", views.fund_list, name="fund-list"),
    path("funds/new/", views.fund_create, name="fund-create"),
    path("funds/<int:pk>/", views.fund_detail, name="fund-detail"),
    path("funds/<int:pk>/rounds/new/", views.round_create, name="round-create"),
    path("rounds/open/", views.open_rounds, name="open-rounds"),
    path("rounds/<int:pk>/", views.round_summary, name="round-summary"),
    path("rounds/<int:pk>/edit/", views.round_edit, name="round-edit"),
    path("rounds/<int:pk>/applications/", views.round_applications, name="round-applications"),
    path("rounds/<int:pk>/applications.csv", views.export_applications, name="export-applications"),
    path("rounds/<int:pk>/ledger.csv", views.export_ledger, name="export-ledger"),
    path("rounds/<int:pk>/apply/", views.apply, name="apply"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/tasks/", views.task_list, name="task-list"),
    path("applications/<int:pk>/questions/<slug:slug>/", views.question, name="question"),
    path("applications/<int:pk>/documents/", views.documents, name="documents"),
    path(
        "applications/<int:pk>/documents/<int:attachment_pk>/remove/",
        views.remove_document,
        name="remove-document",
    ),
    path("applications/<int:pk>/check/", views.check_answers, name="check-answers"),
    path("applications/<int:pk>/declaration/", views.declaration, name="declaration"),
    path("applications/<int:pk>/information/", views.answer_information, name="answer-information"),
    path("applications/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("applications/<int:pk>/assessors/", views.assign_assessor, name="assign-assessor"),
    path(
        "applications/<int:pk>/start-assessment/", views.start_assessment, name="start-assessment"
    ),
    path("applications/<int:pk>/decision/", views.decision, name="decision"),
    path("scores/<int:pk>/moderate/", views.moderate, name="moderate"),
    path("assessments/", views.my_assessments, name="my-assessments"),
    path("assessments/<int:pk>/", views.assessment, name="assessment"),
    path("awards/<int:pk>/", views.award_detail, name="award-detail"),
    path("awards/<int:pk>/milestones/new/", views.milestone_create, name="milestone-create"),
    path("awards/<int:pk>/payments/new/", views.payment_create, name="payment-create"),
    path("awards/<int:pk>/reduce/", views.award_reduce, name="award-reduce"),
    path("awards/<int:pk>/claw-back/", views.award_clawback, name="award-clawback"),
    path("affiliations/", views.affiliations, name="affiliations"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("settings/emails/", views.email_settings, name="email-settings"),
]
