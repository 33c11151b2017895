from django.urls import path, re_path

from mutualise.evidence import views

app_name = "evidence"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("figures/<slug:slug>/", views.figure_detail, name="figure"),
    path("rows/<slug:slug>/", views.rows, name="rows"),
    re_path(
        r"^rows/(?P<slug>[-a-z]+)\.(?P<file_format>csv|json|parquet)$",
        views.rows_download,
        name="rows-download",
    ),
    re_path(
        r"^tables/(?P<slug>[-a-z]+)\.(?P<file_format>csv|json|parquet)$",
        views.table_download,
        name="table-download",
    ),
    path("charts/<slug:slug>.json", views.chart_spec, name="chart-spec"),
    path("charts/<slug:slug>.svg", views.chart_svg, name="chart-svg"),
    path("ocds/programme-contracts.json", views.programme_contracts_ocds, name="ocds"),
]
