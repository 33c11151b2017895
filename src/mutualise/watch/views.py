"""Contract watch pages: a mutual's timeline, the officer's radar, reservation checks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mutualise.core.permissions import can_view_organisation_private, is_programme_staff
from mutualise.core.roles import Role
from mutualise.organisations.models import Organisation
from mutualise.pipeline import reservation
from mutualise.watch import services
from mutualise.watch.forms import ReservationCheckForm
from mutualise.watch.models import WarehouseLoad


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Officers see the radar; a mutual leader goes to their organisation's timeline."""
    if is_programme_staff(request.user):
        return radar(request)
    mine = sorted(request.user.organisation_ids(Role.MUTUAL_LEADER, Role.STAFF_GROUP_MEMBER))  # type: ignore[union-attr]
    if len(mine) == 1:
        return redirect("watch:timeline", pk=mine[0])
    organisations = Organisation.objects.filter(pk__in=mine)
    return render(request, "watch/choose.html", {"organisations": organisations})


def radar(request: HttpRequest) -> HttpResponse:
    rows = services.radar(request.user)
    history = services.outcome_history(request.user)
    return render(
        request,
        "watch/radar.html",
        {
            "rows": rows,
            "history": history[:50],
            "load": WarehouseLoad.objects.first(),
            "today": services.today(),
        },
    )


@login_required
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    if not can_view_organisation_private(request.user, organisation.pk):
        raise PermissionDenied
    rows = services.timeline(request.user, organisation)
    return render(
        request,
        "watch/timeline.html",
        {
            "organisation": organisation,
            "rows": rows,
            "today": services.today(),
            "horizons": services.alert_horizons(),
            "load": WarehouseLoad.objects.first(),
            "is_staff": is_programme_staff(request.user),
        },
    )


@login_required
def reservation_check(request: HttpRequest) -> HttpResponse:
    form = ReservationCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record, result = services.check_reservation(
                request.user,
                cpv_codes=data["cpv_codes"],
                maximum_term_months=data["maximum_term_months"],
                award_date=data["award_date"],
                procedure=data["procedure"] or None,
                supplier_identifier=data["supplier_identifier"],
                buyer_identifier=data["buyer_identifier"],
            )
        except reservation.ReservationInputError as exc:
            form.add_error(None, str(exc))
        else:
            return render(
                request, "watch/reservation_result.html", {"record": record, "result": result}
            )
    return render(request, "watch/reservation_form.html", {"form": form})


@login_required
def missed_reservations(request: HttpRequest) -> HttpResponse:
    contracts = services.missed_reservations(request.user)
    return render(request, "watch/missed.html", {"contracts": contracts})
