from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from mutualise.core.permissions import require_programme_staff
from mutualise.organisations.models import Organisation


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    return render(request, "organisations/list.html", {"organisations": Organisation.objects.all()})


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    return render(request, "organisations/detail.html", {"organisation": organisation})
