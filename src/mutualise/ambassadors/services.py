"""The only place ambassador records change. Each service checks permission, validates, changes
state in one transaction, writes the audit event and queues notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from mutualise.ambassadors import facts
from mutualise.ambassadors.matching import (
    MatchingInfeasible,
    conflict_reason,
    explain,
    greedy,
    score_pair,
    solve,
)
from mutualise.ambassadors.matching_rules import PART_LABELS, load_rules
from mutualise.ambassadors.models import (
    ACTIVE_STATUSES,
    AmbassadorProfile,
    AmbassadorRequest,
    AwayPeriod,
    DeclaredConflict,
    Engagement,
    EngagementRating,
    MatchRun,
    MatchStatus,
    PairConstraint,
    PairRule,
    ProposedMatch,
)
from mutualise.core import audit
from mutualise.core.models import User
from mutualise.core.notifications import notify, site_url
from mutualise.core.permissions import acts_for, is_programme_staff, require_programme_staff
from mutualise.core.roles import Role
from mutualise.organisations.models import Organisation


class AmbassadorError(Exception):
    """A change the rules do not allow; ``problems`` are shown to the user as they are."""

    def __init__(self, problems: list[str] | str) -> None:
        problems = [problems] if isinstance(problems, str) else problems
        super().__init__("; ".join(problems))
        self.problems = problems


# --- who is who --------------------------------------------------------------------------------


def profile_for(user: Any) -> AmbassadorProfile | None:
    if not user.is_authenticated or not user.has_role(Role.AMBASSADOR):
        return None
    return AmbassadorProfile.objects.filter(user=user).first()


def is_ambassador_to(user: Any, organisation: Organisation | int) -> bool:
    """True when ``user`` is the accepted, active ambassador of ``organisation``.

    The fund app asks this to keep ambassadors off their own groups' assessments; core
    permissions ask it so ambassadors can see their groups' journeys.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return ProposedMatch.objects.filter(
        profile__user_id=user.pk, organisation_id=organisation_id, status=MatchStatus.ACCEPTED
    ).exists()


def _require_ambassador_of(actor: User, match: ProposedMatch) -> None:
    if match.profile.user_id != actor.pk or not actor.has_role(Role.AMBASSADOR):
        raise PermissionDenied("Only the ambassador proposed for this group can do this")


def _members(organisation: Organisation) -> list[User]:
    return list(
        User.objects.filter(
            role_assignments__organisation=organisation,
            role_assignments__role__in=[Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER],
        ).distinct()
    )


# --- profiles ----------------------------------------------------------------------------------

PROFILE_FIELDS = (
    "leads_organisation",
    "sectors",
    "stages",
    "regions",
    "capacity",
    "topics_offered",
    "excluded_topics",
    "does_not_want",
    "available_from",
    "available_until",
)


def save_profile(user: User, changes: dict[str, Any], *, actor: User) -> AmbassadorProfile:
    """Create or update an ambassador's profile. The ambassador or programme staff may do this."""
    if not (is_programme_staff(actor) or (actor.pk == user.pk and user.has_role(Role.AMBASSADOR))):
        raise PermissionDenied("You cannot change this ambassador's profile")
    if not user.has_role(Role.AMBASSADOR):
        raise AmbassadorError(f"{user.display_name} is not an ambassador")
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {', '.join(sorted(unknown))}")
    rules = load_rules()
    for key in ("topics_offered", "excluded_topics"):
        bad = set(changes.get(key, [])) - set(rules.topic_codes)
        if bad:
            raise AmbassadorError(f"Unknown topics: {', '.join(sorted(bad))}")
    overlap = set(changes.get("topics_offered", [])) & set(changes.get("excluded_topics", []))
    if overlap:
        names = ", ".join(rules.topic_name(code) for code in sorted(overlap))
        raise AmbassadorError(f"A topic cannot be both offered and not wanted: {names}")
    with transaction.atomic():
        profile, created = AmbassadorProfile.objects.select_for_update(of=("self",)).get_or_create(
            user=user
        )
        before = {field: getattr(profile, field) for field in changes} if not created else {}
        for field, value in changes.items():
            if isinstance(value, list | tuple | set | frozenset):
                value = sorted(value)
            setattr(profile, field, value)
        profile.full_clean()
        profile.save()
        after = {field: getattr(profile, field) for field in changes}
        if created or before != after:
            audit.record(
                actor=actor,
                action="ambassador.profile_saved",
                obj=profile,
                organisation=profile.leads_organisation,
                before=before,
                after=after,
            )
    return profile


def add_away_period(
    profile: AmbassadorProfile, starts_on: date, ends_on: date, note: str = "", *, actor: User
) -> AwayPeriod:
    if not (is_programme_staff(actor) or profile.user_id == actor.pk):
        raise PermissionDenied("You cannot change this ambassador's availability")
    if ends_on < starts_on:
        raise AmbassadorError("The end date must be the same as or after the start date")
    with transaction.atomic():
        period = AwayPeriod.objects.create(
            profile=profile, starts_on=starts_on, ends_on=ends_on, note=note
        )
        audit.record(
            actor=actor,
            action="ambassador.away_added",
            obj=period,
            after={"starts_on": starts_on, "ends_on": ends_on, "note": note},
        )
    return period


def remove_away_period(period: AwayPeriod, *, actor: User) -> None:
    if not (is_programme_staff(actor) or period.profile.user_id == actor.pk):
        raise PermissionDenied("You cannot change this ambassador's availability")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="ambassador.away_removed",
            obj=period,
            before={"starts_on": period.starts_on, "ends_on": period.ends_on},
        )
        period.delete()


# --- officer constraints -----------------------------------------------------------------------


def declare_conflict(
    profile: AmbassadorProfile,
    organisation: Organisation,
    kind: str,
    note: str = "",
    *,
    actor: User,
) -> DeclaredConflict:
    require_programme_staff(actor)
    with transaction.atomic():
        conflict, _ = DeclaredConflict.objects.update_or_create(
            profile=profile,
            organisation=organisation,
            defaults={"kind": kind, "note": note, "recorded_by": actor},
        )
        audit.record(
            actor=actor,
            action="ambassador.conflict_declared",
            obj=conflict,
            organisation=organisation,
            after={"kind": kind, "note": note},
        )
    return conflict


def set_pair_rule(
    organisation: Organisation, profile: AmbassadorProfile, rule: str, *, actor: User
) -> PairConstraint:
    """Pin a pair (the next runs must propose it) or forbid it (they never will)."""
    require_programme_staff(actor)
    if rule not in PairRule.values:
        raise ValueError(f"unknown pair rule {rule}")
    with transaction.atomic():
        constraint, created = PairConstraint.objects.get_or_create(
            organisation=organisation,
            profile=profile,
            rule=rule,
            defaults={"created_by": actor},
        )
        if created:
            audit.record(
                actor=actor,
                action=f"ambassador.pair_{rule}",
                obj=constraint,
                organisation=organisation,
                after={"ambassador": profile.name},
            )
    return constraint


def remove_pair_rule(constraint: PairConstraint, *, actor: User) -> None:
    require_programme_staff(actor)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=f"ambassador.pair_{constraint.rule}_removed",
            obj=constraint,
            organisation=constraint.organisation,
            before={"ambassador": constraint.profile.name},
        )
        constraint.delete()


# --- matching ----------------------------------------------------------------------------------


def run_matching(*, actor: User, today: date | None = None) -> MatchRun:
    """Ask the solver for the best assignment now; store it as a draft for the officer to review.

    Raises AmbassadorError naming each constraint that cannot be met (nothing is stored).
    """
    require_programme_staff(actor)
    rules = load_rules()
    problem = facts.build_problem(rules, today)
    try:
        exact = solve(problem)
        baseline = greedy(problem)
    except MatchingInfeasible as exc:
        raise AmbassadorError(exc.problems) from exc
    groups = {g.id: g for g in problem.groups}
    ambassadors = {a.id: a for a in problem.ambassadors}
    result = []
    for assignment in exact.assignments:
        group, ambassador = groups[assignment.group_id], ambassadors[assignment.ambassador_id]
        result.append(
            {
                "organisation_id": group.id,
                "organisation_name": group.name,
                "profile_id": ambassador.id,
                "ambassador_name": ambassador.name,
                "pinned": assignment.pinned,
                "total": round(assignment.score.total, 4),
                "parts": assignment.score.as_dict(),
                "explanation": explain(group, ambassador, assignment.score, rules),
            }
        )
    summary = {
        "groups": len(problem.groups),
        "ambassadors": len(problem.ambassadors),
        "places": sum(a.free_places for a in problem.ambassadors if a.available),
        "proposed": len(exact.assignments),
        "unmatched": len(exact.unmatched_group_ids),
        "unmatched_names": [groups[i].name for i in exact.unmatched_group_ids][:50],
        "total_fit": round(exact.total_fit, 4),
        "greedy_total_fit": round(baseline.total_fit, 4),
        "method": exact.method,
        "seconds": round(exact.seconds, 3),
        "notes": list(exact.notes),
    }
    parameters = {
        "rules_version": rules.version,
        "weights": dict(rules.weights),
        "minimum_fit": rules.minimum_fit,
        "pins": sorted(problem.pins),
        "forbids": sorted(problem.forbids),
        "today": (today or timezone.localdate()).isoformat(),
    }
    with transaction.atomic():
        MatchRun.objects.filter(status=MatchRun.Status.DRAFT).update(
            status=MatchRun.Status.SUPERSEDED
        )
        run = MatchRun.objects.create(
            run_by=actor, parameters=parameters, summary=summary, result=result
        )
        audit.record(
            actor=actor,
            action="ambassador.match_run",
            obj=run,
            after={
                "proposed": summary["proposed"],
                "total_fit": summary["total_fit"],
                "rules_version": rules.version,
            },
        )
    return run


def confirm_run(run: MatchRun, *, actor: User) -> list[ProposedMatch]:
    """Turn a draft run into proposals for the ambassadors, all or nothing."""
    require_programme_staff(actor)
    rules = load_rules()
    today = timezone.localdate()
    try:
        with transaction.atomic():
            locked = MatchRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
            if locked.status != MatchRun.Status.DRAFT:
                raise AmbassadorError(
                    "This match run is no longer a draft: run matching again to get a proposal."
                )
            pairs = locked.result
            profiles = {
                p.pk: p
                for p in AmbassadorProfile.objects.select_for_update(of=("self",))
                .select_related("user", "leads_organisation")
                .filter(pk__in={pair["profile_id"] for pair in pairs})
            }
            organisations = {
                o.pk: o
                for o in Organisation.objects.select_related("journey", "parent_body").filter(
                    pk__in={pair["organisation_id"] for pair in pairs}
                )
            }
            problems = _confirm_problems(pairs, profiles, organisations, today)
            if problems:
                raise AmbassadorError(problems)
            _, forbids = facts.pair_rules()
            declared = facts.declared_conflicts()
            ambassador_facts = {
                f.id: f for f in facts.ambassador_facts(list(profiles.values()), rules, today)
            }
            created = []
            for pair in pairs:
                organisation = organisations[pair["organisation_id"]]
                profile = profiles[pair["profile_id"]]
                group = facts.group_facts(
                    organisation, rules, facts.stated_needs_text(organisation)
                )
                ambassador = ambassador_facts[profile.pk]
                reason = conflict_reason(group, ambassador, declared)
                if reason or (group.id, ambassador.id) in forbids:
                    raise AmbassadorError(
                        f"{organisation.name} can no longer be paired with {profile.name}: "
                        f"{reason or 'the pair is now forbidden'}. Run matching again."
                    )
                score = score_pair(group, ambassador, rules)
                match = ProposedMatch.objects.create(
                    run=locked,
                    organisation=organisation,
                    profile=profile,
                    score_total=round(score.total, 4),
                    score_parts=score.as_dict(),
                    explanation=explain(group, ambassador, score, rules),
                    rules_version=rules.version,
                    pinned=pair["pinned"],
                )
                audit.record(
                    actor=actor,
                    action="ambassador.match_proposed",
                    obj=match,
                    organisation=organisation,
                    after={"ambassador": profile.name, "score": match.score_total},
                )
                created.append(match)
            locked.status = MatchRun.Status.CONFIRMED
            locked.confirmed_by = actor
            locked.confirmed_at = timezone.now()
            locked.save(update_fields=["status", "confirmed_by", "confirmed_at"])
            PairConstraint.objects.filter(
                rule=PairRule.PIN,
                organisation_id__in=[m.organisation_id for m in created],
            ).delete()
            audit.record(
                actor=actor,
                action="ambassador.match_run_confirmed",
                obj=locked,
                after={"proposals": len(created)},
            )
            for match in created:
                notify(
                    match.profile.user,
                    f"New group for you: {match.organisation.name}",
                    f"The programme proposes that you support {match.organisation.name}.\n\n"
                    f"Accept or decline: {site_url(reverse('ambassadors:match', args=[match.pk]))}",
                    essential=True,
                    dedupe_key=f"ambassadors:proposed:{match.pk}",
                )
    except IntegrityError as exc:
        raise AmbassadorError(
            "Another officer changed these groups' matches at the same time: run matching again."
        ) from exc
    return created


def _confirm_problems(
    pairs: list[dict[str, Any]],
    profiles: dict[int, AmbassadorProfile],
    organisations: dict[int, Organisation],
    today: date,
) -> list[str]:
    problems = []
    busy = set(
        ProposedMatch.objects.filter(
            organisation_id__in=list(organisations), status__in=ACTIVE_STATUSES
        ).values_list("organisation_id", flat=True)
    )
    load: dict[int, int] = {}
    for pair in pairs:
        organisation = organisations.get(pair["organisation_id"])
        profile = profiles.get(pair["profile_id"])
        if organisation is None or profile is None:
            problems.append(
                f"{pair['organisation_name']} or {pair['ambassador_name']} is no "
                "longer in the programme."
            )
            continue
        if organisation.pk in busy:
            problems.append(f"{organisation.name} already has an ambassador proposed or accepted.")
        unavailable = profile.unavailable_reason(today)
        if unavailable:
            problems.append(f"{profile.name} cannot take new groups: they are {unavailable}.")
        load[profile.pk] = load.get(profile.pk, 0) + 1
    for profile_id, count in load.items():
        profile = profiles[profile_id]
        active = profile.matches.filter(status__in=ACTIVE_STATUSES).count()
        if active + count > profile.capacity:
            problems.append(
                f"{profile.name} would have {active + count} groups for a capacity of "
                f"{profile.capacity}: capacity cannot be met."
            )
    if problems:
        problems.append("Nothing was proposed. Run matching again to get a new proposal.")
    return problems


def accept_match(match: ProposedMatch, *, actor: User) -> ProposedMatch:
    _require_ambassador_of(actor, match)
    with transaction.atomic():
        locked = (
            ProposedMatch.objects.select_for_update(of=("self",))
            .select_related("profile", "organisation")
            .get(pk=match.pk)
        )
        if locked.status != MatchStatus.PROPOSED:
            raise AmbassadorError(
                f"This proposal is already {locked.get_status_display().lower()}."
            )
        profile = AmbassadorProfile.objects.select_for_update(of=("self",)).get(
            pk=locked.profile_id
        )
        accepted = profile.matches.filter(status=MatchStatus.ACCEPTED).count()
        if accepted + 1 > profile.capacity:
            raise AmbassadorError(
                f"You already support {accepted} groups and your capacity is {profile.capacity}: "
                "raise your capacity in your profile or decline this proposal."
            )
        locked.accept()
        locked.save()
        AmbassadorRequest.objects.filter(
            organisation=locked.organisation, fulfilled_at__isnull=True
        ).update(fulfilled_at=timezone.now())
        audit.record(
            actor=actor,
            action="ambassador.match_accepted",
            obj=locked,
            organisation=locked.organisation,
            before={"status": "proposed"},
            after={"status": "accepted"},
        )
        for member in _members(locked.organisation):
            notify(
                member,
                f"{profile.name} is your ambassador",
                f"{profile.name} has agreed to be {locked.organisation.name}'s ambassador.\n\n"
                f"See your ambassador: {site_url(reverse('ambassadors:group', args=[locked.organisation_id]))}",
                essential=False,
                dedupe_key=f"ambassadors:accepted:{locked.pk}:{member.pk}",
            )
    return locked


def decline_match(match: ProposedMatch, reason: str, *, actor: User) -> ProposedMatch:
    _require_ambassador_of(actor, match)
    reason = (reason or "").strip()
    if not reason:
        raise AmbassadorError("Enter why you are declining this group")
    with transaction.atomic():
        locked = (
            ProposedMatch.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=match.pk)
        )
        if locked.status != MatchStatus.PROPOSED:
            raise AmbassadorError(
                f"This proposal is already {locked.get_status_display().lower()}."
            )
        locked.decline(reason)
        locked.save()
        audit.record(
            actor=actor,
            action="ambassador.match_declined",
            obj=locked,
            organisation=locked.organisation,
            before={"status": "proposed"},
            after={"status": "declined", "reason": reason},
        )
    return locked


def withdraw_match(match: ProposedMatch, reason: str, *, actor: User) -> ProposedMatch:
    require_programme_staff(actor)
    with transaction.atomic():
        locked = ProposedMatch.objects.select_for_update(of=("self",)).get(pk=match.pk)
        if locked.status != MatchStatus.PROPOSED:
            raise AmbassadorError("Only a proposal waiting for an answer can be withdrawn.")
        locked.withdraw(reason or "Withdrawn by an officer")
        locked.save()
        audit.record(
            actor=actor,
            action="ambassador.match_withdrawn",
            obj=locked,
            organisation=locked.organisation,
            after={"reason": reason},
        )
    return locked


def end_match(match: ProposedMatch, reason: str, *, actor: User) -> ProposedMatch:
    if not (is_programme_staff(actor) or match.profile.user_id == actor.pk):
        raise PermissionDenied("Only the ambassador or an officer can end this match")
    reason = (reason or "").strip()
    if not reason:
        raise AmbassadorError("Enter why the match is ending")
    with transaction.atomic():
        locked = ProposedMatch.objects.select_for_update(of=("self",)).get(pk=match.pk)
        if locked.status != MatchStatus.ACCEPTED:
            raise AmbassadorError("Only an accepted match can end.")
        locked.end(reason)
        locked.save()
        audit.record(
            actor=actor,
            action="ambassador.match_ended",
            obj=locked,
            organisation=locked.organisation,
            after={"reason": reason},
        )
    return locked


# --- engagements -------------------------------------------------------------------------------


def log_engagement(
    match: ProposedMatch,
    *,
    actor: User,
    held_on: date,
    topics: list[str],
    actions_agreed: str,
    notes: str = "",
    follow_up_on: date | None = None,
) -> Engagement:
    _require_ambassador_of(actor, match)
    problems = []
    today = timezone.localdate()
    if held_on > today:
        problems.append("The date of the engagement must be today or in the past")
    if follow_up_on is not None and follow_up_on < held_on:
        problems.append("The follow-up date must be on or after the engagement")
    if not (actions_agreed or "").strip():
        problems.append("Enter the actions agreed")
    unknown = set(topics) - set(load_rules().topic_codes)
    if unknown:
        problems.append(f"Unknown topics: {', '.join(sorted(unknown))}")
    if problems:
        raise AmbassadorError(problems)
    with transaction.atomic():
        locked = (
            ProposedMatch.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=match.pk)
        )
        if locked.status != MatchStatus.ACCEPTED:
            raise AmbassadorError("You can log engagements only with a group you have accepted.")
        engagement = Engagement.objects.create(
            match=locked,
            held_on=held_on,
            topics=sorted(topics),
            notes=notes,
            actions_agreed=actions_agreed.strip(),
            follow_up_on=follow_up_on,
            logged_by=actor,
        )
        audit.record(
            actor=actor,
            action="ambassador.engagement_logged",
            obj=engagement,
            organisation=locked.organisation,
            after={"held_on": held_on, "topics": topics, "follow_up_on": follow_up_on},
        )
        for member in _members(locked.organisation):
            notify(
                member,
                f"Rate your meeting with {locked.profile.name}",
                f"{locked.profile.name} logged a meeting on {held_on:%d %B %Y}.\n\n"
                f"Tell the programme how useful it was: "
                f"{site_url(reverse('ambassadors:rate', args=[engagement.pk]))}",
                essential=False,
                dedupe_key=f"ambassadors:rate:{engagement.pk}:{member.pk}",
            )
    return engagement


def mark_follow_up_done(engagement: Engagement, *, actor: User) -> Engagement:
    _require_ambassador_of(actor, engagement.match)
    with transaction.atomic():
        locked = Engagement.objects.select_for_update(of=("self",)).get(pk=engagement.pk)
        if locked.follow_up_done_at is None:
            locked.follow_up_done_at = timezone.now()
            locked.save(update_fields=["follow_up_done_at"])
            audit.record(
                actor=actor,
                action="ambassador.follow_up_done",
                obj=locked,
                organisation=engagement.match.organisation,
            )
    return locked


def rate_engagement(
    engagement: Engagement, rating: int, comment: str = "", *, actor: User
) -> EngagementRating:
    organisation_id = engagement.match.organisation_id
    if not acts_for(actor, organisation_id):
        raise PermissionDenied("Only members of the group can rate its engagements")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise AmbassadorError("Choose a rating from 1 to 5")
    with transaction.atomic():
        existing = (
            EngagementRating.objects.select_for_update(of=("self",))
            .filter(engagement=engagement, rated_by=actor)
            .first()
        )
        before = {"rating": existing.rating, "comment": existing.comment} if existing else {}
        saved, _ = EngagementRating.objects.update_or_create(
            engagement=engagement,
            rated_by=actor,
            defaults={"rating": rating, "comment": comment.strip(), "rated_at": timezone.now()},
        )
        audit.record(
            actor=actor,
            action="ambassador.engagement_rated",
            obj=saved,
            organisation=engagement.match.organisation,
            before=before,
            after={"rating": rating, "comment": comment},
        )
    return saved


def request_ambassador(organisation: Organisation, note: str, *, actor: User) -> AmbassadorRequest:
    if not acts_for(actor, organisation.pk):
        raise PermissionDenied("Only members of the group can ask for an ambassador")
    with transaction.atomic():
        Organisation.objects.select_for_update(of=("self",)).filter(pk=organisation.pk).first()
        if ProposedMatch.objects.filter(
            organisation=organisation, status__in=ACTIVE_STATUSES
        ).exists():
            raise AmbassadorError("Your group already has an ambassador or one is being asked.")
        if AmbassadorRequest.objects.filter(
            organisation=organisation, fulfilled_at__isnull=True
        ).exists():
            raise AmbassadorError(
                "Your group has already asked for an ambassador. The programme "
                "team will propose one."
            )
        request = AmbassadorRequest.objects.create(
            organisation=organisation, requested_by=actor, note=note.strip()
        )
        audit.record(
            actor=actor,
            action="ambassador.requested",
            obj=request,
            organisation=organisation,
            after={"note": note},
        )
    return request


# --- scheduled ---------------------------------------------------------------------------------


def send_followup_reminders(today: date | None = None) -> int:
    """Email each ambassador about follow-ups past their date. Never the same reminder twice."""
    today = today or timezone.localdate()
    overdue = Engagement.objects.filter(
        follow_up_on__lt=today,
        follow_up_done_at__isnull=True,
        match__status=MatchStatus.ACCEPTED,
    ).select_related("match", "match__organisation", "match__profile__user")
    sent = 0
    for engagement in overdue:
        with transaction.atomic():
            notification = notify(
                engagement.match.profile.user,
                f"Follow-up due with {engagement.match.organisation.name}",
                f"You agreed to follow up with {engagement.match.organisation.name} by "
                f"{engagement.follow_up_on:%d %B %Y} after your meeting on "
                f"{engagement.held_on:%d %B %Y}.\n\nActions agreed:\n{engagement.actions_agreed}"
                f"\n\nMark it done: {site_url(reverse('ambassadors:match', args=[engagement.match_id]))}",
                essential=False,
                dedupe_key=f"ambassadors:follow-up:{engagement.pk}:{engagement.follow_up_on}",
            )
            if notification is not None:
                sent += 1
    return sent


def part_rows(parts: dict[str, float]) -> list[dict[str, Any]]:
    """Score parts as rows for a table, in the order of the rules."""
    return [
        {"name": name, "label": label, "value": parts.get(name, 0.0)}
        for name, label in PART_LABELS.items()
    ]


def matches_for_group(organisation: Organisation):  # type: ignore[no-untyped-def]
    return ProposedMatch.objects.filter(organisation=organisation).select_related(
        "profile__user", "profile__leads_organisation"
    )


def unrated_engagements(user: User, organisation: Organisation):  # type: ignore[no-untyped-def]
    return Engagement.objects.filter(match__organisation=organisation).exclude(
        Q(ratings__rated_by=user)
    )
