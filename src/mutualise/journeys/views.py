from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from mutualise.core.permissions import require_programme_staff, require_view_organisation_private
from mutualise.journeys.models import Journey


@login_required
def pipeline(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    journeys = Journey.objects.select_related("organisation")
    return render(request, "journeys/pipeline.html", {"journeys": journeys})


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    ids = request.user.organisation_ids()  # type: ignore[union-attr]
    journeys = Journey.objects.filter(organisation_id__in=ids).select_related("organisation")
    return render(request, "journeys/mine.html", {"journeys": journeys})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    journey = get_object_or_404(Journey.objects.select_related("organisation"), pk=pk)
    require_view_organisation_private(request.user, journey.organisation_id)
    return render(request, "journeys/detail.html", {"journey": journey})
