"""Officer pages: the review queue of uncertain supplier matches, and a supplier's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mutualise.core.permissions import require_programme_staff
from mutualise.suppliers.forms import ReviewDecisionForm
from mutualise.suppliers.models import ReviewItem, SupplierMention, SupplierOrganisation
from mutualise.suppliers.services import decide_review


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    page = Paginator(ReviewItem.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "suppliers/review_queue.html", {"page": page})


@login_required
def review_item(request: HttpRequest, mention_key: str) -> HttpResponse:
    require_programme_staff(request.user)
    item = get_object_or_404(ReviewItem, mention_key=mention_key)
    form = ReviewDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decide_review(
                request.user,
                item,
                form.cleaned_data["decision"],
                form.cleaned_data["organisation_identifier"],
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return redirect("suppliers:review-queue")
    return render(request, "suppliers/review_item.html", {"item": item, "form": form})


@login_required
def supplier_detail(request: HttpRequest, identifier: str) -> HttpResponse:
    require_programme_staff(request.user)
    organisation = get_object_or_404(SupplierOrganisation, identifier=identifier)
    mentions = SupplierMention.objects.filter(organisation=organisation)
    names = mentions.values_list("supplier_name", flat=True).distinct().order_by("supplier_name")
    identifiers = (
        mentions.exclude(supplier_identifier="")
        .values_list("supplier_identifier", flat=True)
        .distinct()
        .order_by("supplier_identifier")
    )
    awards = Paginator(mentions.order_by("ocid", "award_id"), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "suppliers/detail.html",
        {
            "organisation": organisation,
            "names": names,
            "identifiers": identifiers,
            "awards": awards,
            "award_count": mentions.count(),
        },
    )
