"""Pages for officers (matching), ambassadors (profile, proposals, groups, engagements) and groups
(their ambassador, asking for one, rating engagements). Views check permission and call services.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from mutualise.ambassadors import facts, services
from mutualise.ambassadors.forms import (
    AwayForm,
    ConflictForm,
    DeclineForm,
    EndForm,
    EngagementForm,
    PairRuleForm,
    ProfileForm,
    RatingForm,
    RequestForm,
)
from mutualise.ambassadors.matching_rules import load_rules
from mutualise.ambassadors.models import (
    AmbassadorProfile,
    AwayPeriod,
    DeclaredConflict,
    Engagement,
    MatchRun,
    MatchStatus,
    PairConstraint,
    ProposedMatch,
)
from mutualise.ambassadors.services import AmbassadorError
from mutualise.core.models import User
from mutualise.core.permissions import acts_for, is_programme_staff, require_programme_staff
from mutualise.core.roles import Role
from mutualise.organisations.models import Organisation


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _topic_names(codes: list[str]) -> list[str]:
    rules = load_rules()
    return [rules.topic_name(code) for code in codes]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    if is_programme_staff(user):
        return officer_dashboard(request)
    if user.has_role(Role.AMBASSADOR):  # type: ignore[union-attr]
        return ambassador_home(request)
    ids = sorted(user.organisation_ids(Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER))  # type: ignore[union-attr]
    if ids:
        return redirect("ambassadors:group", ids[0])
    raise PermissionDenied("This page is for the programme's officers, ambassadors and groups")


# --- officers ----------------------------------------------------------------------------------


def officer_dashboard(
    request: HttpRequest, problems: list[str] | None = None, status: int = 200
) -> HttpResponse:
    require_programme_staff(request.user)
    rules = load_rules()
    waiting = facts.waiting_groups(rules)
    profiles = list(facts.active_ambassadors())
    today = timezone.localdate()
    loads = {f.id: f for f in facts.ambassador_facts(profiles, rules, today)}
    context = {
        "rules": rules,
        "waiting": waiting,
        "too_long": [w for w in waiting if w.too_long],
        "ambassadors": [(p, loads[p.pk]) for p in profiles],
        "draft": MatchRun.objects.filter(status=MatchRun.Status.DRAFT).first(),
        "constraints": PairConstraint.objects.select_related("organisation", "profile__user"),
        "awaiting": ProposedMatch.objects.filter(status=MatchStatus.PROPOSED).select_related(
            "organisation", "profile__user"
        ),
        "declined": ProposedMatch.objects.filter(status=MatchStatus.DECLINED).select_related(
            "organisation", "profile__user"
        )[:10],
        "pair_form": PairRuleForm(prefix="pair"),
        "problems": problems or [],
    }
    return render(request, "ambassadors/officer_dashboard.html", context, status=status)


@login_required
@require_POST
def run_matching(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    try:
        run = services.run_matching(actor=_user(request))
    except AmbassadorError as exc:
        return officer_dashboard(request, problems=exc.problems, status=400)
    return redirect("ambassadors:run", run.pk)


@login_required
def run_detail(
    request: HttpRequest, pk: int, problems: list[str] | None = None, status: int = 200
) -> HttpResponse:
    require_programme_staff(request.user)
    run = get_object_or_404(MatchRun, pk=pk)
    rows = [{**pair, "part_rows": services.part_rows(pair["parts"])} for pair in run.result]
    summary = run.summary
    ratio = (
        summary["total_fit"] / summary["greedy_total_fit"]
        if summary.get("greedy_total_fit")
        else None
    )
    return render(
        request,
        "ambassadors/run_detail.html",
        {
            "run": run,
            "rows": rows,
            "summary": summary,
            "ratio": ratio,
            "problems": problems or [],
            "constraints": PairConstraint.objects.select_related("organisation", "profile__user"),
            "pair_form": PairRuleForm(prefix="pair"),
        },
        status=status,
    )


@login_required
@require_POST
def confirm_run(request: HttpRequest, pk: int) -> HttpResponse:
    require_programme_staff(request.user)
    run = get_object_or_404(MatchRun, pk=pk)
    try:
        created = services.confirm_run(run, actor=_user(request))
    except AmbassadorError as exc:
        return run_detail(request, pk, problems=exc.problems, status=400)
    messages.success(request, f"{len(created)} proposals sent to ambassadors")
    return redirect("ambassadors:index")


@login_required
@require_POST
def pair_rule(request: HttpRequest) -> HttpResponse:
    """Pin or forbid a pair, from the review table (hidden fields) or the dashboard form."""
    require_programme_staff(request.user)
    form = PairRuleForm(request.POST, prefix="pair")
    back = request.POST.get("run")
    if not form.is_valid():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        if back and back.isdigit():
            return run_detail(request, int(back), problems=problems, status=400)
        return officer_dashboard(request, problems=problems, status=400)
    services.set_pair_rule(
        form.cleaned_data["organisation"],
        form.cleaned_data["profile"],
        form.cleaned_data["rule"],
        actor=_user(request),
    )
    verb = "Pinned" if form.cleaned_data["rule"] == "pin" else "Forbidden"
    messages.success(
        request,
        f"{verb}: {form.cleaned_data['organisation']} with "
        f"{form.cleaned_data['profile']}. Run matching again to use it.",
    )
    if back and back.isdigit():
        return redirect(reverse("ambassadors:run", args=[int(back)]) + "#constraints")
    return redirect("ambassadors:index")


@login_required
@require_POST
def remove_pair_rule(request: HttpRequest, pk: int) -> HttpResponse:
    require_programme_staff(request.user)
    constraint = get_object_or_404(PairConstraint, pk=pk)
    services.remove_pair_rule(constraint, actor=_user(request))
    messages.success(request, "Removed. Run matching again to use the change.")
    back = request.POST.get("run")
    if back and back.isdigit():
        return redirect("ambassadors:run", int(back))
    return redirect("ambassadors:index")


@login_required
def conflicts(request: HttpRequest) -> HttpResponse:
    require_programme_staff(request.user)
    form = ConflictForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.declare_conflict(
            form.cleaned_data["profile"],
            form.cleaned_data["organisation"],
            form.cleaned_data["kind"],
            form.cleaned_data["note"],
            actor=_user(request),
        )
        messages.success(request, "Conflict of interest recorded")
        return redirect("ambassadors:conflicts")
    return render(
        request,
        "ambassadors/conflicts.html",
        {
            "form": form,
            "conflicts": DeclaredConflict.objects.select_related("profile__user", "organisation"),
        },
        status=400 if form.errors else 200,
    )


# --- matches (officer and ambassador) ------------------------------------------------------------


def _match_for(request: HttpRequest, pk: int) -> ProposedMatch:
    match = get_object_or_404(
        ProposedMatch.objects.select_related(
            "organisation", "organisation__journey", "profile__user", "profile__leads_organisation"
        ),
        pk=pk,
    )
    if not (is_programme_staff(request.user) or match.profile.user_id == request.user.pk):
        raise Http404("No such match")
    return match


@login_required
def match_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_match(request, _match_for(request, pk))


def _render_match(
    request: HttpRequest, match: ProposedMatch, problems: list[str] | None = None, status: int = 200
) -> HttpResponse:
    engagements = list(match.engagements.prefetch_related("ratings"))
    for engagement in engagements:
        engagement.topic_names = _topic_names(engagement.topics)  # type: ignore[attr-defined]
    return render(
        request,
        "ambassadors/match_detail.html",
        {
            "match": match,
            "is_ambassador": match.profile.user_id == request.user.pk,
            "journey": getattr(match.organisation, "journey", None),
            "engagements": engagements,
            "part_rows": services.part_rows(match.score_parts),
            "needs": facts.stated_needs_text(match.organisation),
            "problems": problems or [],
        },
        status=status,
    )


@login_required
@require_POST
def accept_match(request: HttpRequest, pk: int) -> HttpResponse:
    match = _match_for(request, pk)
    try:
        services.accept_match(match, actor=_user(request))
    except AmbassadorError as exc:
        return _render_match(request, _match_for(request, pk), exc.problems, 400)
    messages.success(request, f"You are now {match.organisation.name}'s ambassador")
    return redirect("ambassadors:match", pk)


@login_required
def decline_match(request: HttpRequest, pk: int) -> HttpResponse:
    match = _match_for(request, pk)
    if match.profile.user_id != request.user.pk:
        raise PermissionDenied("Only the ambassador can decline")
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.decline_match(match, form.cleaned_data["reason"], actor=_user(request))
        except AmbassadorError as exc:
            form.add_error(None, exc.problems[0])
        else:
            messages.success(request, f"You declined {match.organisation.name}")
            return redirect("ambassadors:index")
    return render(
        request,
        "ambassadors/decline.html",
        {"form": form, "match": match},
        status=400 if form.errors else 200,
    )


@login_required
def end_match(request: HttpRequest, pk: int) -> HttpResponse:
    match = _match_for(request, pk)
    form = EndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.end_match(match, form.cleaned_data["reason"], actor=_user(request))
        except AmbassadorError as exc:
            form.add_error(None, exc.problems[0])
        else:
            messages.success(request, f"The match with {match.organisation.name} has ended")
            return redirect("ambassadors:index")
    return render(
        request,
        "ambassadors/end.html",
        {"form": form, "match": match},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def withdraw_match(request: HttpRequest, pk: int) -> HttpResponse:
    require_programme_staff(request.user)
    match = _match_for(request, pk)
    try:
        services.withdraw_match(match, "Withdrawn by an officer", actor=_user(request))
    except AmbassadorError as exc:
        return _render_match(request, _match_for(request, pk), exc.problems, 400)
    messages.success(request, "Proposal withdrawn")
    return redirect("ambassadors:index")


@login_required
def log_engagement(request: HttpRequest, pk: int) -> HttpResponse:
    match = _match_for(request, pk)
    if match.profile.user_id != request.user.pk:
        raise PermissionDenied("Only the ambassador logs engagements")
    form = EngagementForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.log_engagement(
                match,
                actor=_user(request),
                held_on=data["held_on"],
                topics=data["topics"],
                actions_agreed=data["actions_agreed"],
                notes=data["notes"],
                follow_up_on=data["follow_up_on"],
            )
        except AmbassadorError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            messages.success(request, "Engagement logged")
            return redirect("ambassadors:match", pk)
    return render(
        request,
        "ambassadors/engagement_form.html",
        {"form": form, "match": match},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = get_object_or_404(Engagement.objects.select_related("match__profile"), pk=pk)
    if engagement.match.profile.user_id != request.user.pk:
        raise Http404("No such engagement")
    services.mark_follow_up_done(engagement, actor=_user(request))
    messages.success(request, "Follow-up marked as done")
    return redirect("ambassadors:match", engagement.match_id)


# --- ambassadors -------------------------------------------------------------------------------


def ambassador_home(request: HttpRequest) -> HttpResponse:
    profile = services.profile_for(request.user)
    if profile is None:
        return redirect("ambassadors:profile")
    proposals = profile.matches.filter(status=MatchStatus.PROPOSED).select_related("organisation")
    groups = list(facts.accepted_matches_for(profile).prefetch_related("engagements"))
    overdue = Engagement.objects.filter(
        match__profile=profile,
        match__status=MatchStatus.ACCEPTED,
        follow_up_on__lt=timezone.localdate(),
        follow_up_done_at__isnull=True,
    ).select_related("match__organisation")
    return render(
        request,
        "ambassadors/ambassador_home.html",
        {
            "profile": profile,
            "proposals": proposals,
            "groups": groups,
            "overdue": overdue,
            "away": profile.away_periods.filter(ends_on__gte=timezone.localdate()),
            "unavailable": profile.unavailable_reason(timezone.localdate()),
            "topics_offered": _topic_names(profile.topics_offered),
            "excluded": _topic_names(profile.excluded_topics),
        },
    )


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_role(Role.AMBASSADOR):  # type: ignore[union-attr]
        raise PermissionDenied("Only ambassadors have a profile")
    profile = AmbassadorProfile.objects.filter(user=_user(request)).first()
    form = ProfileForm(request.POST or None, initial=ProfileForm.initial_from(profile))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_profile(_user(request), form.cleaned_data, actor=_user(request))
        except AmbassadorError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            messages.success(request, "Profile saved")
            return redirect("ambassadors:index")
    return render(
        request,
        "ambassadors/profile_form.html",
        {"form": form, "profile": profile},
        status=400 if form.errors else 200,
    )


@login_required
def away_add(request: HttpRequest) -> HttpResponse:
    profile = services.profile_for(request.user)
    if profile is None:
        raise PermissionDenied("Only ambassadors record time away")
    form = AwayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.add_away_period(
            profile, data["starts_on"], data["ends_on"], data["note"], actor=_user(request)
        )
        messages.success(request, "Time away recorded: no new groups will be proposed then")
        return redirect("ambassadors:index")
    return render(
        request, "ambassadors/away_form.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def away_remove(request: HttpRequest, pk: int) -> HttpResponse:
    period = get_object_or_404(AwayPeriod, pk=pk)
    if period.profile.user_id != request.user.pk:
        raise Http404("No such period")
    services.remove_away_period(period, actor=_user(request))
    messages.success(request, "Time away removed")
    return redirect("ambassadors:index")


# --- groups ------------------------------------------------------------------------------------


def _group_for(request: HttpRequest, organisation_id: int) -> Organisation:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    if not (acts_for(request.user, organisation.pk) or is_programme_staff(request.user)):
        raise Http404("No such group")
    return organisation


@login_required
def group_page(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = _group_for(request, organisation_id)
    matches = services.matches_for_group(organisation)
    current = matches.filter(status=MatchStatus.ACCEPTED).first()
    asking = matches.filter(status=MatchStatus.PROPOSED).exists()
    engagements = list(
        Engagement.objects.filter(match__organisation=organisation)
        .select_related("match__profile__user")
        .prefetch_related("ratings")
    )
    for engagement in engagements:
        engagement.topic_names = _topic_names(engagement.topics)  # type: ignore[attr-defined]
        engagement.my_rating = next(  # type: ignore[attr-defined]
            (r for r in engagement.ratings.all() if r.rated_by_id == request.user.pk), None
        )
    return render(
        request,
        "ambassadors/group.html",
        {
            "organisation": organisation,
            "current": current,
            "asking": asking,
            "request_open": organisation.ambassador_requests.filter(
                fulfilled_at__isnull=True
            ).first(),
            "engagements": engagements,
            "can_act": acts_for(request.user, organisation.pk),
        },
    )


@login_required
def request_ambassador(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = _group_for(request, organisation_id)
    if not acts_for(request.user, organisation.pk):
        raise PermissionDenied("Only members of the group can ask for an ambassador")
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_ambassador(
                organisation, form.cleaned_data["note"], actor=_user(request)
            )
        except AmbassadorError as exc:
            form.add_error(None, exc.problems[0])
        else:
            messages.success(
                request, "You have asked for an ambassador. The programme team will propose one."
            )
            return redirect("ambassadors:group", organisation.pk)
    return render(
        request,
        "ambassadors/request_form.html",
        {"form": form, "organisation": organisation},
        status=400 if form.errors else 200,
    )


@login_required
def rate_engagement(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = get_object_or_404(
        Engagement.objects.select_related("match__organisation", "match__profile__user"), pk=pk
    )
    if not acts_for(request.user, engagement.match.organisation_id):
        raise Http404("No such engagement")
    existing = engagement.ratings.filter(rated_by=_user(request)).first()
    initial = {"rating": existing.rating, "comment": existing.comment} if existing else {}
    form = RatingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.rate_engagement(
            engagement,
            form.cleaned_data["rating"],
            form.cleaned_data["comment"],
            actor=_user(request),
        )
        messages.success(request, "Thank you: your rating is saved")
        return redirect("ambassadors:group", engagement.match.organisation_id)
    return render(
        request,
        "ambassadors/rate_form.html",
        {"form": form, "engagement": engagement, "topic_names": _topic_names(engagement.topics)},
        status=400 if form.errors else 200,
    )
