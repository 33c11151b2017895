"""Journey pages: the officers' pipeline, a group's journey (task list for the group, evidence and
moves for officers) and the readiness self-assessment. State changes go through services."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from mutualise.core.models import User
from mutualise.core.permissions import (
    acts_for,
    is_programme_staff,
    require_programme_staff,
    require_view_organisation_private,
)
from mutualise.core.roles import Role
from mutualise.journeys import readiness, services
from mutualise.journeys.evidence import run_checks
from mutualise.journeys.forms import (
    EvidenceForm,
    MoveForm,
    PipelineFilterForm,
    ReadinessAnswerForm,
)
from mutualise.journeys.models import Journey, ReadinessAssessment
from mutualise.journeys.workflow import load_workflow, required_checks
from mutualise.organisations.reference import region_choices, sector_choices


def _actor(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast(User, request.user)


# --- the pipeline ----------------------------------------------------------------------------


@login_required
def pipeline(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    workflow = load_workflow()
    form = PipelineFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    elif form.is_bound:  # keep the valid filters, report the others
        filters = {k: v for k, v in form.cleaned_data.items() if v and k not in form.errors}

    journeys = Journey.objects.all()
    if "sector" in filters:
        journeys = journeys.filter(organisation__sector=filters["sector"])
    if "region" in filters:
        journeys = journeys.filter(organisation__region=filters["region"])
    if "parent_body" in filters:
        journeys = journeys.filter(organisation__parent_body=filters["parent_body"])

    # Counts per stage reflect every filter except the stage itself, so they say where to look.
    counted = dict(journeys.values_list("stage").annotate(n=Count("id")).order_by())
    query_without_stage = {
        k: (v.pk if hasattr(v, "pk") else v) for k, v in filters.items() if k != "stage"
    }
    stage_counts = [
        {
            "code": stage.code,
            "name": stage.staff_name,
            "count": counted.get(stage.code, 0),
            "href": "?" + urlencode({**query_without_stage, "stage": stage.code}),
            "selected": filters.get("stage") == stage.code,
        }
        for stage in workflow.stages
    ]
    if "stage" in filters:
        journeys = journeys.filter(stage=filters["stage"])

    by_stage: dict[str, list[dict[str, Any]]] = {code: [] for code in workflow.codes}
    for row in _pipeline_rows(journeys):
        by_stage.setdefault(row["stage"], []).append(row)
    groups: list[dict[str, Any]] = [
        {"stage": workflow.stage(code), "journeys": by_stage[code]}
        for code in workflow.codes
        if by_stage.get(code)
    ]
    total = sum(len(g["journeys"]) for g in groups)
    in_pipeline = sum(counted.get(c, 0) for c in workflow.pipeline_stages)
    live = sum(counted.get(c, 0) for c in workflow.live_stages)
    return render(
        request,
        "journeys/pipeline.html",
        {
            "form": form,
            "groups": groups,
            "stage_counts": stage_counts,
            "total": total,
            "in_pipeline": in_pipeline,
            "live": live,
            "filtered": bool(filters),
            "clear_stage_href": "?" + urlencode(query_without_stage),
        },
    )


def _pipeline_rows(journeys: QuerySet[Journey]) -> list[dict[str, Any]]:
    """The pipeline's table rows as plain values.

    The officer's busiest page: building a model instance per group and per parent body cost
    more than the query and the template together.
    """
    sectors = dict(sector_choices())
    regions = dict(region_choices())
    rows = journeys.order_by("organisation__name").values(
        "pk",
        "stage",
        "stage_entered_at",
        "organisation__name",
        "organisation__parent_body__name",
        "organisation__sector",
        "organisation__region",
    )
    return [
        {
            "pk": row["pk"],
            "stage": row["stage"],
            "stage_entered_at": row["stage_entered_at"],
            "name": row["organisation__name"],
            "parent_body": row["organisation__parent_body__name"] or "Not recorded",
            "sector": sectors.get(row["organisation__sector"], "Not recorded"),
            "region": regions.get(row["organisation__region"], "Not recorded"),
        }
        for row in rows
    ]


# What each evidence check looks for, in a few words, for the "Recorded" side of the list.
CHECK_LABELS = {
    "senior_sponsor": "Senior sponsor",
    "options_appraisal_chose_mutual": "Options appraisal chose the mutual route",
    "business_case_completed": "Full business case completed",
    "parent_body_decision_date": "Parent body decision",
    "legal_entity_registered": "Legal form and register identifier",
    "employee_control_recorded": "Employee control",
    "procurement_route_chosen": "Procurement route",
    "service_contract_recorded": "Service contract",
    "shadow_operation_started": "Shadow operation start date",
    "diversification_plan_recorded": "Plan for growing and diversifying income",
    "contract_end_date_recorded": "Anchor contract end date",
    "retender_outcome_recorded": "Re-tender outcome",
}


# --- one group's journey ---------------------------------------------------------------------


def _journey(request: HttpRequest, pk: int) -> Journey:
    journey = get_object_or_404(
        Journey.objects.select_related("organisation", "organisation__parent_body"), pk=pk
    )
    require_view_organisation_private(request.user, journey.organisation_id)
    return journey


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """A member or leader's own journey; the page lists them if someone acts for several."""
    ids = _actor(request).organisation_ids(Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER)
    journeys = list(Journey.objects.filter(organisation_id__in=ids).select_related("organisation"))
    if len(journeys) == 1:
        return redirect("journeys:detail", pk=journeys[0].pk)
    return render(request, "journeys/mine.html", {"journeys": journeys})


def _move_options(journey: Journey) -> list[dict[str, Any]]:
    """For each stage the group may move to, the evidence that move needs and whether it is in."""
    workflow = load_workflow()
    snapshot = journey.snapshot()
    options = []
    for target in workflow.allowed_targets(journey.stage):
        checks = run_checks(required_checks(journey.stage, target), snapshot)
        options.append(
            {
                "code": target,
                "name": workflow.stage(target).staff_name,
                "checks": [
                    {
                        "code": c.code,
                        "passed": c.passed,
                        "message": c.message,
                        "label": CHECK_LABELS.get(c.code, c.code),
                    }
                    for c in checks
                ],
                "ready": all(c.passed for c in checks),
            }
        )
    return options


def _attempts(journey: Journey) -> list[ReadinessAssessment]:
    return list(journey.assessments.filter(submitted_at__isnull=False).order_by("submitted_at"))


def _comparison(attempts: list[ReadinessAssessment]) -> list[dict[str, Any]]:
    """Rows of theme scores by attempt, for a side-by-side table (themes in first-seen order)."""
    rows: dict[str, dict[str, Any]] = {}
    for index, attempt in enumerate(attempts):
        for theme in attempt.result.get("themes", []):
            row = rows.setdefault(
                theme["theme"], {"name": theme["name"], "cells": [None] * len(attempts)}
            )
            row["cells"][index] = theme
    return list(rows.values())


def _officer_detail(
    request: HttpRequest,
    journey: Journey,
    *,
    move_form: MoveForm | None = None,
    refusal: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    organisation = journey.organisation
    attempts = _attempts(journey)
    context = {
        "journey": journey,
        "organisation": organisation,
        "stage": load_workflow().stage(journey.stage),
        "move_form": move_form or MoveForm(journey=journey),
        "move_options": _move_options(journey),
        "can_move": services.can_move(_actor(request)),
        "refusal": refusal or [],
        "evidence": _evidence_rows(journey),
        "identifiers": organisation.register_identifiers(),
        "attempts": attempts,
        "comparison": _comparison(attempts),
    }
    return render(request, "journeys/detail.html", context, status=status)


def _evidence_rows(journey: Journey) -> list[dict[str, Any]]:
    form = EvidenceForm(initial=EvidenceForm.initial_for(journey))
    rows = []
    for name, field in form.fields.items():
        value = getattr(journey, name)
        if name == "needs_ambassador":
            shown = "Yes" if value else "No"
        elif hasattr(field, "choices") and value:
            shown = dict(field.choices).get(value, value)
        else:
            shown = value
        rows.append({"name": name, "label": field.label, "value": shown})
    return rows


def _task_list(journey: Journey) -> list[dict[str, Any]]:
    workflow = load_workflow()
    stages = [s for s in workflow.stages if s.code != "WITHDRAWN"]
    if journey.stage == "WITHDRAWN":
        return []
    current = [s.code for s in stages].index(journey.stage)
    items = []
    for index, stage in enumerate(stages):
        if index < current:
            status = "completed"
        elif index == current:
            status = "in_progress"
        else:
            status = "cannot_start"
        items.append({"stage": stage, "status": status, "index": index + 1})
    return items


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    if is_programme_staff(request.user):
        return _officer_detail(request, journey)
    workflow = load_workflow()
    stage = workflow.stage(journey.stage)
    next_needs = []
    if stage.next:
        next_needs = [
            c
            for c in run_checks(required_checks(journey.stage, stage.next[0]), journey.snapshot())
            if not c.passed
        ]
    attempts = _attempts(journey)
    draft = journey.assessments.filter(submitted_at__isnull=True).first()
    if attempts:
        readiness_status = "completed"
    elif draft is not None and draft.answers:
        readiness_status = "in_progress"
    else:
        readiness_status = "not_started"
    about_done = bool(journey.senior_sponsor_name.strip() and journey.stated_needs.strip())
    return render(
        request,
        "journeys/task_list.html",
        {
            "journey": journey,
            "organisation": journey.organisation,
            "stage": stage,
            "tasks": _task_list(journey),
            "next_needs": next_needs,
            "readiness_status": readiness_status,
            "about_done": about_done,
            "is_member": acts_for(request.user, journey.organisation_id),
        },
    )


@login_required
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    if not services.can_move(_actor(request)):
        raise PermissionDenied("Only programme officers can move a group between stages")
    form = MoveForm(request.POST, journey=journey)
    if not form.is_valid():
        return _officer_detail(request, journey, move_form=form)
    target = form.cleaned_data["target"]
    try:
        moved = services.move_stage(
            journey,
            target,
            actor=_actor(request),
            note=form.cleaned_data["note"],
        )
    except services.MoveRefused as refused:
        # Name every missing piece of evidence and link to where the page shows it.
        try:
            preview = services.preview_move(journey, target)
            failed = [c for c in preview.checks if not c.passed]
            refusal = [{"text": c.message, "href": f"#check-{target}-{c.code}"} for c in failed]
        except services.MoveRefused:
            refusal = []
        if not refusal:
            refusal = [{"text": reason, "href": "#move"} for reason in refused.reasons]
        return _officer_detail(request, journey, move_form=form, refusal=refusal)
    messages.success(request, f"{moved.organisation.name} moved to {moved.stage_name}")
    return redirect("journeys:detail", pk=moved.pk)


@login_required
def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    staff = is_programme_staff(request.user)
    if not (staff or acts_for(request.user, journey.organisation_id)):
        raise PermissionDenied("You cannot change this group's journey")
    member_only = not staff
    if request.method == "POST":
        form = EvidenceForm(request.POST, member_only=member_only)
        if form.is_valid():
            try:
                services.update_evidence(
                    journey,
                    form.changes(journey),
                    actor=_actor(request),
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Journey details saved")
                return redirect("journeys:detail", pk=journey.pk)
    else:
        form = EvidenceForm(initial=EvidenceForm.initial_for(journey), member_only=member_only)
    return render(
        request,
        "journeys/evidence_form.html",
        {
            "journey": journey,
            "organisation": journey.organisation,
            "form": form,
            "member_only": member_only,
        },
    )


# --- readiness self-assessment ---------------------------------------------------------------


def _assessment(journey: Journey, assessment_pk: int) -> ReadinessAssessment:
    return get_object_or_404(ReadinessAssessment, pk=assessment_pk, journey=journey)


def _require_taker(request: HttpRequest, journey: Journey) -> None:
    if not services.can_take_assessment(_actor(request), journey):
        raise PermissionDenied("Only members of the group can answer its readiness assessment")


@login_required
def readiness_overview(request: HttpRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    attempts = _attempts(journey)
    draft = journey.assessments.filter(submitted_at__isnull=True).first()
    if draft is not None and draft.questionnaire_version not in readiness.questionnaires():
        draft = None  # its questionnaire was withdrawn: starting again makes a new attempt
    questionnaire = readiness.load_questionnaire()
    resume_href = ""
    if draft is not None:
        draft_questionnaire = readiness.load_questionnaire(draft.questionnaire_version)
        resume_href = _resume_href(journey, draft, draft_questionnaire)
    return render(
        request,
        "journeys/readiness_overview.html",
        {
            "journey": journey,
            "organisation": journey.organisation,
            "questionnaire": questionnaire,
            "attempts": list(reversed(attempts)),
            "comparison": _comparison(attempts),
            "comparison_attempts": attempts,
            "draft": draft,
            "draft_answered": len(draft.answers) if draft else 0,
            "resume_href": resume_href,
            "can_take": services.can_take_assessment(_actor(request), journey),
        },
    )


def _resume_href(
    journey: Journey, assessment: ReadinessAssessment, questionnaire: readiness.Questionnaire
) -> str:
    question = questionnaire.first_unanswered(assessment.answers)
    if question is None:
        return reverse("journeys:readiness-check", args=[journey.pk, assessment.pk])
    return reverse("journeys:readiness-question", args=[journey.pk, assessment.pk, question.code])


@login_required
@require_POST
def readiness_start(request: HttpRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    _require_taker(request, journey)
    assessment = services.start_assessment(journey, actor=_actor(request))
    questionnaire = readiness.load_questionnaire(assessment.questionnaire_version)
    return redirect(_resume_href(journey, assessment, questionnaire))


@login_required
def readiness_question(
    request: HttpRequest, pk: int, assessment_pk: int, question_code: str
) -> HttpResponse:
    journey = _journey(request, pk)
    _require_taker(request, journey)
    assessment = _assessment(journey, assessment_pk)
    if assessment.is_submitted:
        return redirect("journeys:readiness-result", pk=journey.pk, assessment_pk=assessment.pk)
    questionnaire = readiness.load_questionnaire(assessment.questionnaire_version)
    question = questionnaire.question(question_code)
    if question is None:
        raise Http404("No such question")
    changing = request.GET.get("change") == "1"
    check_href = reverse("journeys:readiness-check", args=[journey.pk, assessment.pk])
    if request.method == "POST":
        form = ReadinessAnswerForm(request.POST, question=question)
        if form.is_valid():
            services.record_answer(
                assessment,
                question.code,
                form.cleaned_data["answer"],
                actor=_actor(request),
            )
            following = questionnaire.next_question(question.code)
            if changing or following is None:
                return redirect(check_href)
            return redirect(
                "journeys:readiness-question",
                pk=journey.pk,
                assessment_pk=assessment.pk,
                question_code=following.code,
            )
    else:
        current = assessment.answers.get(question.code)
        form = ReadinessAnswerForm(
            initial={"answer": current} if current else None, question=question
        )
    previous = questionnaire.previous_question(question.code)
    if changing:
        back_href = check_href
    elif previous is not None:
        back_href = reverse(
            "journeys:readiness-question", args=[journey.pk, assessment.pk, previous.code]
        )
    else:
        back_href = reverse("journeys:readiness", args=[journey.pk])
    return render(
        request,
        "journeys/readiness_question.html",
        {
            "journey": journey,
            "assessment": assessment,
            "question": question,
            "theme": questionnaire.theme(question.theme),
            "position": questionnaire.position(question.code),
            "count": len(questionnaire.questions),
            "form": form,
            "back_href": back_href,
            "changing": changing,
        },
    )


def _answer_rows(
    journey: Journey, assessment: ReadinessAssessment, questionnaire: readiness.Questionnaire
) -> list[dict[str, Any]]:
    sections = []
    for theme in questionnaire.themes:
        rows = []
        for question in theme.questions:
            option = question.option(assessment.answers.get(question.code, ""))
            rows.append(
                {
                    "question": question,
                    "answer": option.label if option else "",
                    "href": reverse(
                        "journeys:readiness-question",
                        args=[journey.pk, assessment.pk, question.code],
                    )
                    + "?change=1",
                }
            )
        sections.append({"theme": theme, "rows": rows})
    return sections


@login_required
def readiness_check(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    _require_taker(request, journey)
    assessment = _assessment(journey, assessment_pk)
    if assessment.is_submitted:
        return redirect("journeys:readiness-result", pk=journey.pk, assessment_pk=assessment.pk)
    questionnaire = readiness.load_questionnaire(assessment.questionnaire_version)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        try:
            services.submit_assessment(assessment, actor=_actor(request))
        except readiness.IncompleteAnswers as incomplete:
            errors = [
                {"text": f"Answer the question: {q.text}", "href": f"#answer-{q.code}"}
                for q in incomplete.questions
            ]
        except services.AssessmentLocked:
            pass
        else:
            messages.success(request, "Readiness assessment submitted")
        if not errors:
            return redirect("journeys:readiness-result", pk=journey.pk, assessment_pk=assessment.pk)
    return render(
        request,
        "journeys/readiness_check.html",
        {
            "journey": journey,
            "assessment": assessment,
            "sections": _answer_rows(journey, assessment, questionnaire),
            "errors": errors,
        },
    )


@login_required
def readiness_result(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    assessment = _assessment(journey, assessment_pk)
    if not assessment.is_submitted:
        if services.can_take_assessment(_actor(request), journey):
            return redirect("journeys:readiness-check", pk=journey.pk, assessment_pk=assessment.pk)
        raise Http404("This assessment has not been submitted")
    attempts = _attempts(journey)
    return render(
        request,
        "journeys/readiness_result.html",
        {
            "journey": journey,
            "organisation": journey.organisation,
            "assessment": assessment,
            "themes": assessment.result.get("themes", []),
            "comparison": _comparison(attempts),
            "comparison_attempts": attempts,
            "can_take": services.can_take_assessment(_actor(request), journey),
        },
    )
