"""Fund pages. Views check permission, clean input with forms and call fund.services; they never
change state themselves."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from mutualise.core.models import User
from mutualise.core.roles import Role
from mutualise.fund import reports, services
from mutualise.fund.forms import (
    AdjustForm,
    AffiliationForm,
    AnswerForm,
    ApproveForm,
    AssignForm,
    DeclarationForm,
    EmailPreferenceForm,
    FundForm,
    InformationRequestForm,
    MilestoneForm,
    ModerateForm,
    PaymentForm,
    RejectForm,
    RoundForm,
    StartApplicationForm,
    UploadForm,
    question_form,
)
from mutualise.fund.models import (
    AffiliationKind,
    Application,
    AssessorAffiliation,
    AssessorAssignment,
    Attachment,
    Award,
    Fund,
    FundRound,
    LedgerEntry,
    Milestone,
    Score,
)
from mutualise.fund.permissions import (
    APPLICANT_KINDS,
    applicant_organisation_ids,
    can_view_attachment,
    is_applicant,
    is_assessor,
    is_officer,
    require_officer,
    require_view_application,
)
from mutualise.fund.rules import application_form, criteria_template
from mutualise.fund.services import Refused
from mutualise.organisations.models import Organisation, OrganisationKind

PAGE_SIZE = 50


def _refused(form: Any, refused: Refused, field: str | None = None) -> None:
    for reason in refused.reasons:
        form.add_error(field, reason)


def _form_page(
    request: HttpRequest,
    form: Any,
    *,
    title: str,
    submit: str,
    back: str | None = None,
    caption: str = "",
    intro: str = "",
    multipart: bool = False,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    return render(
        request,
        "fund/form_page.html",
        {
            "form": form,
            "title": title,
            "submit": submit,
            "back": back,
            "caption": caption,
            "intro": intro,
            "multipart": multipart,
            **(context or {}),
        },
        status=200,
    )


def _actor(request: HttpRequest) -> User:
    """The signed-in user (every view that calls this is behind login_required)."""
    return cast(User, request.user)


class _Candidate(TypedDict):
    user: User
    assigned: bool
    conflicts: list[str]


# ---- home and applicant -------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    context: dict[str, Any] = {"is_officer": is_officer(user), "is_assessor": is_assessor(user)}
    if context["is_officer"]:
        return redirect("fund:fund-list")
    organisation_ids = applicant_organisation_ids(user)
    context["applications"] = Application.objects.filter(
        organisation_id__in=organisation_ids
    ).select_related("round__fund", "organisation")
    now = timezone.now()
    context["open_rounds"] = (
        FundRound.objects.filter(opens_at__lte=now, closes_at__gt=now)
        .select_related("fund")
        .order_by("closes_at")
    )
    context["can_apply"] = bool(organisation_ids)
    if context["is_assessor"]:
        context["assignments"] = AssessorAssignment.objects.filter(assessor=user).select_related(
            "application__organisation", "application__round__fund"
        )
    return render(request, "fund/home.html", context)


@login_required
def open_rounds(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rounds = (
        FundRound.objects.filter(opens_at__lte=now, closes_at__gt=now)
        .select_related("fund")
        .order_by("closes_at")
    )
    return render(
        request,
        "fund/open_rounds.html",
        {"rounds": rounds, "can_apply": bool(applicant_organisation_ids(request.user))},
    )


@login_required
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    fund_round = get_object_or_404(FundRound.objects.select_related("fund"), pk=pk)
    organisations = list(
        Organisation.objects.filter(
            pk__in=applicant_organisation_ids(request.user), kind__in=APPLICANT_KINDS
        )
    )
    if not organisations:
        raise PermissionDenied("Only members of a staff group or leaders of a mutual can apply")
    form = StartApplicationForm(
        request.POST or None,
        organisations=organisations,
        initial={"organisation": str(organisations[0].pk)} if len(organisations) == 1 else None,
    )
    if request.method == "POST" and form.is_valid():
        organisation = next(
            o for o in organisations if str(o.pk) == form.cleaned_data["organisation"]
        )
        try:
            application = services.start_application(
                actor=_actor(request), fund_round=fund_round, organisation=organisation
            )
        except Refused as refused:
            _refused(form, refused, "organisation")
        else:
            return redirect("fund:task-list", pk=application.pk)
    return render(request, "fund/apply.html", {"form": form, "fund_round": fund_round})


def _applicant_application(request: HttpRequest, pk: int) -> Application:
    application = get_object_or_404(
        Application.objects.select_related("round__fund", "organisation"), pk=pk
    )
    if not is_applicant(request.user, application):
        raise Http404("No such application")
    return application


def _sections(application: Application) -> list[dict[str, Any]]:
    answers = application.answers
    sections = []
    for section in application_form().sections:
        shown = [q for q in section.questions if q.is_shown(answers)]
        done = [q for q in shown if answers.get(q.slug) not in (None, "")]
        first_missing = next((q for q in shown if answers.get(q.slug) in (None, "")), shown[0])
        status = (
            "completed" if len(done) == len(shown) else "in_progress" if done else "not_started"
        )
        sections.append(
            {
                "code": section.code,
                "title": section.title,
                "status": status,
                "first": first_missing.slug,
                "questions": shown,
            }
        )
    return sections


@login_required
def task_list(request: HttpRequest, pk: int) -> HttpResponse:
    application = _applicant_application(request, pk)
    if not application.is_editable:
        return redirect("fund:application-detail", pk=pk)
    sections = _sections(application)
    complete = all(s["status"] == "completed" for s in sections)
    return render(
        request,
        "fund/task_list.html",
        {
            "application": application,
            "sections": sections,
            "complete": complete,
            "documents": application.attachments.filter(payment__isnull=True).count(),
            "form_rules": application_form(),
            "outcome": services.check_eligibility(application),
        },
    )


def _display_answer(question: Any, value: Any) -> str:
    from mutualise.fund.money import format_pence

    if value in (None, ""):
        return ""
    if question.kind == "money":
        return format_pence(int(value))
    if question.kind == "yes_no":
        return "Yes" if value == "yes" else "No"
    if question.kind == "choice":
        return dict(question.choices).get(value, value)
    if question.kind == "date":
        import datetime as dt

        day = dt.date.fromisoformat(value)
        return f"{day.day} {day:%B %Y}"
    return str(value)


def _next_question(application: Application, slug: str) -> str | None:
    questions = [q for q in application_form().questions if q.is_shown(application.answers)]
    slugs = [q.slug for q in questions]
    if slug not in slugs:
        return None
    current = application_form().question(slug)
    for following in questions[slugs.index(slug) + 1 :]:
        if following.section == current.section:
            return following.slug
        break
    return None


@login_required
def question(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    application = _applicant_application(request, pk)
    try:
        item = application_form().question(slug)
    except KeyError as exc:
        raise Http404("No such question") from exc
    if not application.is_editable:
        return redirect("fund:application-detail", pk=pk)
    initial = application.answers.get(slug)
    if item.kind == "date" and initial:
        import datetime as dt

        initial = dt.date.fromisoformat(initial).strftime("%d/%m/%Y")
    form = question_form(item, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.save_answer(
                actor=_actor(request),
                application=application,
                slug=slug,
                value=form.cleaned_data["answer"],
            )
        except Refused as refused:
            _refused(form, refused, "answer")
        else:
            if "return" in request.POST or request.GET.get("from") == "check":
                target = (
                    "fund:check-answers" if request.GET.get("from") == "check" else "fund:task-list"
                )
                return redirect(target, pk=pk)
            following = _next_question(application, slug)
            if following:
                return redirect("fund:question", pk=pk, slug=following)
            return redirect("fund:task-list", pk=pk)
    section = next(s for s in application_form().sections if s.code == item.section)
    return render(
        request,
        "fund/question.html",
        {
            "application": application,
            "question": item,
            "form": form,
            "section": section,
        },
    )


@login_required
def documents(request: HttpRequest, pk: int) -> HttpResponse:
    application = _applicant_application(request, pk)
    if not application.is_editable:
        return redirect("fund:application-detail", pk=pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_attachment(
                actor=_actor(request), application=application, upload=form.cleaned_data["file"]
            )
        except Refused as refused:
            _refused(form, refused, "file")
        else:
            messages.success(request, f"{form.cleaned_data['file'].name} uploaded")
            return redirect("fund:documents", pk=pk)
    return render(
        request,
        "fund/documents.html",
        {
            "application": application,
            "form": form,
            "form_rules": application_form(),
            "attachments": application.attachments.filter(payment__isnull=True),
        },
    )


@login_required
@require_POST
def remove_document(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    application = _applicant_application(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, application=application)
    try:
        services.remove_attachment(actor=_actor(request), attachment=attachment)
    except Refused as refused:
        messages.error(request, refused.reasons[0])
    return redirect("fund:documents", pk=pk)


def _answer_rows(application: Application, *, change: bool) -> list[dict[str, Any]]:
    rows = []
    for section in application_form().sections:
        items = []
        for item in section.questions:
            if not item.is_shown(application.answers):
                continue
            items.append(
                {
                    "question": item,
                    "answer": _display_answer(item, application.answers.get(item.slug)),
                    "change": reverse("fund:question", args=[application.pk, item.slug])
                    + "?from=check"
                    if change
                    else None,
                }
            )
        rows.append({"title": section.title, "items": items})
    return rows


@login_required
def check_answers(request: HttpRequest, pk: int) -> HttpResponse:
    application = _applicant_application(request, pk)
    if not application.is_editable:
        return redirect("fund:application-detail", pk=pk)
    return render(
        request,
        "fund/check_answers.html",
        {
            "application": application,
            "rows": _answer_rows(application, change=True),
            "outcome": services.check_eligibility(application),
            "missing": services.missing_answers(application),
            "attachments": application.attachments.filter(payment__isnull=True),
        },
    )


@login_required
def declaration(request: HttpRequest, pk: int) -> HttpResponse:
    application = _applicant_application(request, pk)
    if not application.is_editable:
        return redirect("fund:application-detail", pk=pk)
    form = DeclarationForm(
        request.POST or None, initial={"full_name": _actor(request).display_name}
    )
    outcome = services.check_eligibility(application)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_application(
                actor=_actor(request),
                application=application,
                declaration_name=form.cleaned_data["full_name"],
                confirmed=form.cleaned_data["confirm"],
            )
        except Refused as refused:
            _refused(form, refused)
        else:
            return render(
                request, "fund/submitted.html", {"application": Application.objects.get(pk=pk)}
            )
    return render(
        request,
        "fund/declaration.html",
        {
            "application": application,
            "form": form,
            "outcome": outcome,
            "declaration_text": application_form().declaration,
            "missing": services.missing_answers(application),
        },
    )


@login_required
def answer_information(request: HttpRequest, pk: int) -> HttpResponse:
    application = _applicant_application(request, pk)
    open_request = application.information_requests.filter(answered_at__isnull=True).last()
    if application.status != "more_information_requested" or open_request is None:
        return redirect("fund:application-detail", pk=pk)
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_information_request(
                actor=_actor(request), application=application, answer=form.cleaned_data["answer"]
            )
        except Refused as refused:
            _refused(form, refused, "answer")
        else:
            messages.success(request, "Answer saved. Check your application and send it back.")
            return redirect("fund:task-list", pk=pk)
    return _form_page(
        request,
        form,
        title="Answer the programme's question",
        submit="Save answer",
        caption=application.reference,
        back=reverse("fund:application-detail", args=[pk]),
        intro=open_request.question,
    )


@login_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = _applicant_application(request, pk)
    if request.method == "POST":
        try:
            services.withdraw_application(actor=_actor(request), application=application)
        except Refused as refused:
            messages.error(request, refused.reasons[0])
        else:
            messages.success(request, f"Application {application.reference} withdrawn")
        return redirect("fund:application-detail", pk=pk)
    return render(request, "fund/withdraw.html", {"application": application})


# ---- application detail (everyone allowed) ------------------------------------------------


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(
        Application.objects.select_related("round__fund", "organisation__parent_body"), pk=pk
    )
    try:
        require_view_application(request.user, application)
    except PermissionDenied as exc:
        raise Http404("No such application") from exc
    officer = is_officer(request.user)
    context: dict[str, Any] = {
        "application": application,
        "officer": officer,
        "applicant": is_applicant(request.user, application),
        "rows": _answer_rows(application, change=False),
        "attachments": application.attachments.filter(payment__isnull=True),
        "information_requests": application.information_requests.all(),
        "outcome": services.check_eligibility(application),
        "award": Award.objects.filter(application=application).first(),
    }
    if officer:
        criteria = list(application.round.criteria.all())
        assignments = list(
            application.assignments.select_related("assessor").prefetch_related("scores")
        )
        table = []
        for criterion in criteria:
            cells = []
            for assignment in assignments:
                score = next(
                    (s for s in assignment.scores.all() if s.criterion_id == criterion.pk), None
                )
                cells.append(score)
            table.append({"criterion": criterion, "cells": cells})
        scale = criteria_template()
        totals = []
        for assignment in assignments:
            scores = {s.criterion_id: s.final_score for s in assignment.scores.all()}
            if len(scores) == len(criteria) and criteria:
                got = sum(scores[c.pk] * c.weight for c in criteria)
                best = sum(scale.maximum * c.weight for c in criteria)
                totals.append(f"{round(100 * got / best)}%")
            else:
                totals.append("Not finished")
        context.update(
            {
                "criteria": criteria,
                "assignments": assignments,
                "table": table,
                "totals": totals,
                "scale": scale,
            }
        )
    return render(request, "fund/application_detail.html", context)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = get_object_or_404(Attachment.objects.select_related("application"), pk=pk)
    if not can_view_attachment(request.user, attachment):
        raise Http404("No such file")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ---- officers: funds and rounds -----------------------------------------------------------


@login_required
def fund_list(request: HttpRequest) -> HttpResponse:
    require_officer(request.user)
    funds = Fund.objects.prefetch_related("rounds")
    return render(request, "fund/fund_list.html", {"funds": funds, "now": timezone.now()})


@login_required
def fund_create(request: HttpRequest) -> HttpResponse:
    require_officer(request.user)
    form = FundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fund = services.create_fund(actor=_actor(request), **form.cleaned_data)
        except Refused as refused:
            _refused(form, refused, "name")
        else:
            messages.success(request, f"{fund.name} created")
            return redirect(fund)
    return _form_page(
        request, form, title="Create a fund", submit="Create fund", back=reverse("fund:fund-list")
    )


@login_required
def fund_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_officer(request.user)
    fund = get_object_or_404(Fund, pk=pk)
    rounds = fund.rounds.annotate(
        pending=Count(
            "applications",
            filter=Q(
                applications__status__in=[
                    "submitted",
                    "in_assessment",
                    "more_information_requested",
                ]
            ),
        ),
        total=Count("applications"),
    )
    now = timezone.now()
    rows = [
        {"round": r, "state": r.state(now, r.pending), "budget": r.balance().budget} for r in rounds
    ]
    return render(request, "fund/fund_detail.html", {"fund": fund, "rows": rows})


@login_required
def round_create(request: HttpRequest, pk: int) -> HttpResponse:
    require_officer(request.user)
    fund = get_object_or_404(Fund, pk=pk)
    form = RoundForm(request.POST or None, initial=RoundForm.initial_for(None))
    if request.method == "POST" and form.is_valid():
        try:
            fund_round = services.create_round(
                actor=_actor(request), fund=fund, **form.service_fields()
            )
        except Refused as refused:
            _refused(form, refused)
        else:
            messages.success(request, f"{fund_round.name} created")
            return redirect(fund_round)
    return render(
        request, "fund/round_form.html", {"form": form, "fund": fund, "title": "Create a round"}
    )


@login_required
def round_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_officer(request.user)
    fund_round = get_object_or_404(FundRound.objects.select_related("fund"), pk=pk)
    form = RoundForm(request.POST or None, initial=RoundForm.initial_for(fund_round), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_round(
                actor=_actor(request),
                fund_round=fund_round,
                reason=form.cleaned_data.get("budget_reason", ""),
                **form.service_fields(),
            )
        except Refused as refused:
            _refused(form, refused)
        else:
            messages.success(request, f"{fund_round.name} updated")
            return redirect(fund_round)
    return render(
        request,
        "fund/round_form.html",
        {
            "form": form,
            "fund": fund_round.fund,
            "fund_round": fund_round,
            "title": f"Change {fund_round.name}",
        },
    )


@login_required
def round_summary(request: HttpRequest, pk: int) -> HttpResponse:
    require_officer(request.user)
    fund_round = get_object_or_404(FundRound.objects.select_related("fund"), pk=pk)
    summary = reports.round_summary(fund_round)
    entries = (
        LedgerEntry.objects.filter(round=fund_round)
        .select_related("award__application", "milestone", "created_by")
        .order_by("-at", "-id")[:20]
    )
    return render(
        request,
        "fund/round_summary.html",
        {
            "fund_round": fund_round,
            "summary": summary,
            "entries": entries,
            "state": fund_round.state(pending=summary.pending),  # type: ignore[attr-defined]
            "criteria": fund_round.criteria.all(),
        },
    )


@login_required
def round_applications(request: HttpRequest, pk: int) -> HttpResponse:
    require_officer(request.user)
    fund_round = get_object_or_404(FundRound.objects.select_related("fund"), pk=pk)
    statuses = application_form().statuses
    status = request.GET.get("status", "")
    query = (
        Application.objects.filter(round=fund_round)
        .select_related("organisation")
        .order_by("-submitted_at", "-id")
    )
    if status in {s.code for s in statuses}:
        query = query.filter(status=status)
    else:
        status = ""
    page = Paginator(
        query.only(
            "id",
            "reference",
            "status",
            "project_title",
            "amount_requested_pence",
            "submitted_at",
            "organisation__name",
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "fund/round_applications.html",
        {
            "fund_round": fund_round,
            "page": page,
            "statuses": statuses,
            "status": status,
        },
    )


def _csv(filename: str, header: list[str], rows: Any) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        reports.csv_rows(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def export_applications(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    require_officer(request.user)
    fund_round = get_object_or_404(FundRound, pk=pk)
    return _csv(
        f"round-{pk}-applications.csv",
        reports.APPLICATION_HEADER,
        reports.application_rows(fund_round),
    )


@login_required
def export_ledger(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    require_officer(request.user)
    fund_round = get_object_or_404(FundRound, pk=pk)
    return _csv(f"round-{pk}-ledger.csv", reports.LEDGER_HEADER, reports.ledger_rows(fund_round))


# ---- officers: assessment and decisions ---------------------------------------------------


def _officer_application(request: HttpRequest, pk: int) -> Application:
    require_officer(request.user)
    return get_object_or_404(
        Application.objects.select_related("round__fund", "organisation__parent_body"), pk=pk
    )


@login_required
def assign_assessor(request: HttpRequest, pk: int) -> HttpResponse:
    application = _officer_application(request, pk)
    assigned = set(application.assignments.values_list("assessor_id", flat=True))
    candidates: list[_Candidate] = []
    for person in User.objects.filter(role_assignments__role=Role.ASSESSOR).distinct():
        candidates.append(
            {
                "user": person,
                "assigned": person.pk in assigned,
                "conflicts": services.assessor_conflicts(person, application),
            }
        )
    choices = [
        (str(c["user"].pk), c["user"].display_name)
        for c in candidates
        if not c["conflicts"] and not c["assigned"]
    ]
    form = AssignForm(request.POST or None, choices=choices)
    if request.method == "POST":
        chosen = request.POST.get("assessor", "")
        blocked = next(
            (c for c in candidates if str(c["user"].pk) == chosen and c["conflicts"]), None
        )
        if blocked:
            form.is_valid()
            form.errors.pop("assessor", None)
            for reason in blocked["conflicts"]:
                form.add_error(
                    "assessor",
                    f"{blocked['user'].display_name} cannot assess this application: {reason}",
                )
        elif form.is_valid():
            person = User.objects.get(pk=form.cleaned_data["assessor"])
            try:
                services.assign_assessor(
                    actor=_actor(request), application=application, assessor=person
                )
            except Refused as refused:
                _refused(form, refused, "assessor")
            else:
                messages.success(request, f"{person.display_name} assigned")
                return redirect(application)
    return render(
        request,
        "fund/assign_assessor.html",
        {"application": application, "form": form, "candidates": candidates},
    )


@login_required
@require_POST
def start_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    application = _officer_application(request, pk)
    try:
        services.start_assessment(actor=_actor(request), application=application)
    except Refused as refused:
        messages.error(request, refused.reasons[0])
    return redirect(application)


@login_required
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    application = _officer_application(request, pk)
    action = request.POST.get("action") if request.method == "POST" else None
    approve_form = ApproveForm(
        request.POST if action == "approve" else None,
        prefix="approve",
        initial={"amount_pence": application.amount_requested_pence},
    )
    reject_form = RejectForm(request.POST if action == "reject" else None, prefix="reject")
    info_form = InformationRequestForm(
        request.POST if action == "information" else None, prefix="information"
    )
    error_form = None
    if action == "approve" and approve_form.is_valid():
        try:
            services.approve_application(
                actor=_actor(request),
                application=application,
                amount_pence=approve_form.cleaned_data["amount_pence"],
                note=approve_form.cleaned_data["note"],
            )
        except Refused as refused:
            _refused(approve_form, refused, "amount_pence")
        else:
            messages.success(request, f"{application.reference} approved")
            return redirect(application)
    elif action == "reject" and reject_form.is_valid():
        try:
            services.reject_application(
                actor=_actor(request),
                application=application,
                reasons=reject_form.cleaned_data["reasons"],
            )
        except Refused as refused:
            _refused(reject_form, refused, "reasons")
        else:
            messages.success(request, f"{application.reference} rejected")
            return redirect(application)
    elif action == "information" and info_form.is_valid():
        try:
            services.request_more_information(
                actor=_actor(request),
                application=application,
                question=info_form.cleaned_data["question"],
            )
        except Refused as refused:
            _refused(info_form, refused, "question")
        else:
            messages.success(request, f"Question sent to {application.organisation.name}")
            return redirect(application)
    for candidate in (approve_form, reject_form, info_form):
        if candidate.is_bound and candidate.errors:
            error_form = candidate
    balance = application.round.balance()
    return render(
        request,
        "fund/decision.html",
        {
            "application": application,
            "approve_form": approve_form,
            "reject_form": reject_form,
            "info_form": info_form,
            "form": error_form,
            "balance": balance,
        },
    )


@login_required
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    require_officer(request.user)
    score = get_object_or_404(
        Score.objects.select_related(
            "criterion", "assignment__application", "assignment__assessor"
        ),
        pk=pk,
    )
    application = score.assignment.application
    form = ModerateForm(
        request.POST or None,
        initial={"moderated_score": score.moderated_score, "note": score.moderation_note},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.moderate_score(
                actor=_actor(request),
                score=score,
                moderated_score=form.cleaned_data["moderated_score"],
                note=form.cleaned_data["note"],
            )
        except Refused as refused:
            _refused(form, refused)
        else:
            messages.success(request, "Score moderated")
            return redirect(application)
    intro = (
        f"{score.assignment.assessor.display_name} scored {score.criterion.title} "
        f"{score.score}: “{score.comment}”"
    )
    return _form_page(
        request,
        form,
        title=f"Moderate the score for {score.criterion.title}",
        submit="Save",
        caption=application.reference,
        intro=intro,
        back=application.get_absolute_url(),
    )


# ---- assessors ----------------------------------------------------------------------------


@login_required
def my_assessments(request: HttpRequest) -> HttpResponse:
    assignments = AssessorAssignment.objects.filter(assessor=_actor(request)).select_related(
        "application__organisation", "application__round__fund"
    )
    return render(request, "fund/my_assessments.html", {"assignments": assignments})


@login_required
def assessment(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(
        AssessorAssignment.objects.select_related(
            "application__round__fund", "application__organisation"
        ),
        pk=pk,
    )
    if assignment.assessor_id != request.user.pk:
        raise Http404("No such assessment")
    application = assignment.application
    criteria = list(application.round.criteria.all())
    existing = {s.criterion_id: s for s in assignment.scores.all()}
    scale = criteria_template()
    errors: list[dict[str, str]] = []
    values: dict[int, tuple[str, str]] = {
        c.pk: (
            str(existing[c.pk].score) if c.pk in existing else "",
            existing[c.pk].comment if c.pk in existing else "",
        )
        for c in criteria
    }
    overall = assignment.overall_comment
    if request.method == "POST":
        complete = "finish" in request.POST
        scores: dict[int, tuple[int, str]] = {}
        for criterion in criteria:
            raw = request.POST.get(f"score_{criterion.pk}", "")
            comment = request.POST.get(f"comment_{criterion.pk}", "")
            values[criterion.pk] = (raw, comment)
            if raw == "" and not comment.strip():
                if complete:
                    errors.append(
                        {"id": f"score_{criterion.pk}_0", "text": f"Score {criterion.title}"}
                    )
                continue
            try:
                number = int(raw)
            except ValueError:
                errors.append({"id": f"score_{criterion.pk}_0", "text": f"Score {criterion.title}"})
                continue
            scores[criterion.pk] = (number, comment)
        overall = request.POST.get("overall_comment", "")
        if not errors:
            try:
                services.save_scores(
                    actor=_actor(request),
                    assignment=assignment,
                    scores=scores,
                    overall_comment=overall,
                    complete=complete,
                )
            except Refused as refused:
                errors.extend({"id": "scores", "text": r} for r in refused.reasons)
            else:
                messages.success(request, "Assessment finished" if complete else "Scores saved")
                return redirect("fund:my-assessments")
    rows = [
        {"criterion": c, "score": values[c.pk][0], "comment": values[c.pk][1]} for c in criteria
    ]
    return render(
        request,
        "fund/assessment.html",
        {
            "assignment": assignment,
            "application": application,
            "rows": rows,
            "errors": errors,
            "scale": [
                (n, scale.labels.get(n, "")) for n in range(scale.minimum, scale.maximum + 1)
            ],
            "overall": overall,
            "answers": _answer_rows(application, change=False),
            "attachments": application.attachments.filter(payment__isnull=True),
            "editable": application.status == "in_assessment",
        },
    )


# ---- officers: awards and money -----------------------------------------------------------


def _award(request: HttpRequest, pk: int) -> Award:
    require_officer(request.user)
    return get_object_or_404(
        Award.objects.select_related("application__organisation", "round__fund"), pk=pk
    )


@login_required
def award_detail(request: HttpRequest, pk: int) -> HttpResponse:
    award = _award(request, pk)
    milestones = [
        {"milestone": m, "paid": m.paid_pence(), "left": m.planned_amount_pence - m.paid_pence()}
        for m in award.milestones.all()
    ]
    entries = award.ledger_entries.select_related("milestone", "created_by").prefetch_related(
        "evidence_files"
    )
    return render(
        request,
        "fund/award_detail.html",
        {
            "award": award,
            "balance": award.balance(),
            "milestones": milestones,
            "entries": entries,
        },
    )


@login_required
def milestone_create(request: HttpRequest, pk: int) -> HttpResponse:
    award = _award(request, pk)
    form = MilestoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_milestone(actor=_actor(request), award=award, **form.cleaned_data)
        except Refused as refused:
            _refused(form, refused, "amount_pence")
        else:
            messages.success(request, "Milestone added")
            return redirect(award)
    return _form_page(
        request,
        form,
        title="Add a milestone",
        submit="Add milestone",
        caption=str(award),
        back=award.get_absolute_url(),
    )


@login_required
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    award = _award(request, pk)
    milestones = list(award.milestones.all())
    form = PaymentForm(
        request.POST or None,
        request.FILES or None,
        milestones=[(str(m.pk), m.title) for m in milestones],
    )
    if request.method == "POST" and form.is_valid():
        milestone = get_object_or_404(Milestone, pk=form.cleaned_data["milestone"], award=award)
        try:
            services.record_payment(
                actor=_actor(request),
                award=award,
                milestone=milestone,
                amount_pence=form.cleaned_data["amount_pence"],
                evidence=form.cleaned_data["evidence"],
                upload=form.cleaned_data.get("file"),
            )
        except Refused as refused:
            _refused(form, refused, "amount_pence")
        else:
            messages.success(request, "Payment recorded")
            return redirect(award)
    if not milestones:
        messages.info(request, "Add a milestone before you record a payment")
        return redirect("fund:milestone-create", pk=pk)
    return _form_page(
        request,
        form,
        title="Record a payment",
        submit="Record payment",
        caption=str(award),
        back=award.get_absolute_url(),
        multipart=True,
    )


@login_required
def award_reduce(request: HttpRequest, pk: int) -> HttpResponse:
    return _adjust(
        request,
        pk,
        services.reduce_award,
        "Reduce the award",
        "Reduce award",
        "Only money not yet paid can be released back to the round.",
    )


@login_required
def award_clawback(request: HttpRequest, pk: int) -> HttpResponse:
    return _adjust(
        request,
        pk,
        services.claw_back,
        "Claw back a payment",
        "Claw back",
        "Record money recovered from the applicant. The award's commitment falls by "
        "the same amount and the money returns to the round.",
    )


def _adjust(
    request: HttpRequest, pk: int, service: Any, title: str, submit: str, intro: str
) -> HttpResponse:
    award = _award(request, pk)
    form = AdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service(actor=_actor(request), award=award, **form.cleaned_data)
        except Refused as refused:
            _refused(form, refused, "amount_pence")
        else:
            messages.success(request, f"{submit}: done")
            return redirect(award)
    return _form_page(
        request,
        form,
        title=title,
        submit=submit,
        caption=str(award),
        intro=intro,
        back=award.get_absolute_url(),
    )


@login_required
def affiliations(request: HttpRequest) -> HttpResponse:
    require_officer(request.user)
    users = [
        (str(u.pk), f"{u.display_name} ({u.username})")
        for u in User.objects.filter(role_assignments__role=Role.ASSESSOR).distinct()
    ]
    organisations = [
        (str(o.pk), o.name)
        for o in Organisation.objects.filter(
            kind__in=[
                OrganisationKind.PUBLIC_BODY,
                OrganisationKind.STAFF_GROUP,
                OrganisationKind.MUTUAL,
            ]
        )
    ]
    form = AffiliationForm(request.POST or None, users=users, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_affiliation(
                actor=_actor(request),
                user=User.objects.get(pk=form.cleaned_data["user"]),
                organisation=Organisation.objects.get(pk=form.cleaned_data["organisation"]),
                relationship=form.cleaned_data["relationship"],
                note=form.cleaned_data["note"],
            )
        except Refused as refused:
            _refused(form, refused)
        else:
            messages.success(request, "Link recorded")
            return redirect("fund:affiliations")
    return render(
        request,
        "fund/affiliations.html",
        {
            "form": form,
            "kinds": AffiliationKind.choices,
            "affiliations": AssessorAffiliation.objects.select_related("user", "organisation"),
        },
    )


@login_required
def email_settings(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    form = EmailPreferenceForm(
        request.POST or None, initial={"emails": "essential" if user.email_opt_out else "all"}
    )
    if request.method == "POST" and form.is_valid():
        services.set_email_preference(
            actor=user, opt_out=form.cleaned_data["emails"] == "essential"
        )
        messages.success(request, "Email settings saved")
        return redirect("fund:email-settings")
    return _form_page(
        request,
        form,
        title="Email settings",
        submit="Save settings",
        intro="Essential emails, such as decisions on your application and "
        "questions from the programme, are always sent.",
    )
