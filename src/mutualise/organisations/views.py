"""Organisation pages: the officers' list, an organisation's page (identifiers, facts, employee
control, the public service mutual verdict), editing, new records and the activity log."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mutualise.core.models import AuditEvent, User
from mutualise.core.permissions import (
    is_programme_staff,
    require_programme_staff,
    require_view_organisation_private,
)
from mutualise.journeys.workflow import load_workflow
from mutualise.organisations import services
from mutualise.organisations.forms import (
    IdentifierForm,
    OrganisationFilterForm,
    OrganisationForm,
    PublicBodyForm,
    StaffGroupForm,
)
from mutualise.organisations.identifiers import schemes
from mutualise.organisations.models import Identifier, Organisation


def _actor(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast(User, request.user)


PAGE_SIZE = 50


def _add_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    form = OrganisationFilterForm(request.GET or None)
    organisations = Organisation.objects.select_related("parent_body")
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        filters = {k: v for k, v in form.cleaned_data.items() if v and k not in form.errors}
    if "q" in filters:
        organisations = organisations.filter(name__icontains=filters["q"].strip())
    for name in ("kind", "sector", "region"):
        if name in filters:
            organisations = organisations.filter(**{name: filters[name]})
    paginator = Paginator(organisations.order_by("name", "pk"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "organisations/list.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": bool(filters)},
    )


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation.objects.select_related("parent_body"), pk=pk)
    require_view_organisation_private(request.user, organisation.pk)
    journey = getattr(organisation, "journey", None)  # reverse one-to-one: None if missing
    scheme_names = {code: s.name for code, s in schemes().items()}
    identifiers = [
        {"identifier": i, "scheme_name": scheme_names.get(i.scheme, i.scheme)}
        for i in organisation.identifiers.all()
    ]
    return render(
        request,
        "organisations/detail.html",
        {
            "organisation": organisation,
            "identifiers": identifiers,
            "verdict": organisation.mutual_verdict(),
            "journey": journey,
            "staff": is_programme_staff(request.user),
            "spin_outs": organisation.spin_outs.order_by("name")
            if organisation.kind == "public_body"
            else None,
        },
    )


@login_required
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_programme_staff(request.user)
    organisation = get_object_or_404(Organisation, pk=pk)
    if request.method == "POST":
        form = OrganisationForm(request.POST, organisation=organisation)
        if form.is_valid():
            try:
                services.update_organisation(
                    organisation,
                    form.changes(organisation),
                    actor=_actor(request),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, "Organisation details saved")
                return redirect("organisations:detail", pk=organisation.pk)
    else:
        form = OrganisationForm(
            initial=OrganisationForm.initial_for(organisation), organisation=organisation
        )
    return render(request, "organisations/edit.html", {"organisation": organisation, "form": form})


@login_required
def add_identifier(request: HttpRequest, pk: int) -> HttpResponse:
    require_programme_staff(request.user)
    organisation = get_object_or_404(Organisation, pk=pk)
    if request.method == "POST":
        form = IdentifierForm(request.POST)
        if form.is_valid():
            try:
                identifier = services.add_identifier(
                    organisation,
                    form.cleaned_data["scheme"],
                    form.cleaned_data["value"],
                    actor=_actor(request),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Identifier {identifier.prefixed} added")
                return redirect("organisations:detail", pk=organisation.pk)
    else:
        form = IdentifierForm()
    formats = [
        {"code": code, "name": s.name, "expected": s.expected, "example": s.example}
        for code, s in schemes().items()
    ]
    return render(
        request,
        "organisations/identifier_form.html",
        {"organisation": organisation, "form": form, "formats": formats},
    )


@login_required
@require_POST
def remove_identifier(request: HttpRequest, pk: int, identifier_pk: int) -> HttpResponse:
    require_programme_staff(request.user)
    identifier = get_object_or_404(Identifier, pk=identifier_pk, organisation_id=pk)
    prefixed = identifier.prefixed
    services.remove_identifier(identifier, actor=_actor(request))
    messages.success(request, f"Identifier {prefixed} removed")
    return redirect("organisations:detail", pk=pk)


@login_required
def new_staff_group(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    form = StaffGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.create_staff_group(
                actor=_actor(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{organisation.name} added at the Explore stage")
            return redirect("journeys:detail", pk=organisation.journey.pk)
    return render(
        request,
        "organisations/new.html",
        {
            "form": form,
            "title": "Add a staff group",
            "intro": "The group's journey starts at the Explore stage.",
        },
    )


@login_required
def new_public_body(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    form = PublicBodyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.create_public_body(
                actor=_actor(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{organisation.name} added")
            return redirect("organisations:detail", pk=organisation.pk)
    return render(
        request,
        "organisations/new.html",
        {
            "form": form,
            "title": "Add a public body",
            "intro": "A council, NHS body or government organisation that staff groups spin out of.",
        },
    )


# --- activity --------------------------------------------------------------------------------

ACTION_LABELS = {
    "journey.moved": "Moved to a new stage",
    "journey.started": "Journey started",
    "journey.evidence_updated": "Journey evidence recorded",
    "readiness.started": "Readiness self-assessment started",
    "readiness.answered": "Readiness question answered",
    "readiness.submitted": "Readiness self-assessment submitted",
    "organisation.created": "Organisation added",
    "organisation.updated": "Organisation details changed",
    "organisation.identifier_added": "Identifier added",
    "organisation.identifier_removed": "Identifier removed",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return action.replace(".", ": ").replace("_", " ").capitalize()


def _readable(key: str, value: Any) -> str:
    if value is None or value == "":
        return "nothing"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if key == "stage" and isinstance(value, str):
        workflow = load_workflow()
        return workflow.stage(value).staff_name if value in workflow.codes else value
    return str(value)


def describe_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    """One line per field: label, before, after, in words a person reads."""
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        label = key.replace("_", " ").capitalize() if key.islower() else key
        rows.append(
            {
                "field": label,
                "before": _readable(key, before.get(key)) if key in before else "",
                "after": _readable(key, after.get(key)) if key in after else "",
            }
        )
    return rows


@login_required
def activity(request: HttpRequest, pk: int) -> HttpResponse:
    require_programme_staff(request.user)
    organisation = get_object_or_404(Organisation, pk=pk)
    events = AuditEvent.objects.filter(
        Q(organisation=organisation)
        | Q(object_type=Organisation._meta.label, object_id=str(organisation.pk))
    ).order_by("-at", "-id")
    paginator = Paginator(events, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "action": action_label(event.action),
            "changes": describe_changes(event.before or {}, event.after or {}),
        }
        for event in page.object_list
    ]
    return render(
        request,
        "organisations/activity.html",
        {"organisation": organisation, "page": page, "rows": rows},
    )
