from django.urls import include, path

from mutualise.evidence.api import api

urlpatterns = [
    path("", include("mutualise.core.urls")),
    path("organisations/", include("mutualise.organisations.urls")),
    path("journeys/", include("mutualise.journeys.urls")),
    path("fund/", include("mutualise.fund.urls")),
    path("ambassadors/", include("mutualise.ambassadors.urls")),
    path("watch/", include("mutualise.watch.urls")),
    path("suppliers/", include("mutualise.suppliers.urls")),
    path("evidence/", include("mutualise.evidence.urls")),
    path("api/", api.urls),
]

handler403 = "mutualise.core.views.forbidden"
handler404 = "mutualise.core.views.not_found"
handler500 = "mutualise.core.views.server_error"
